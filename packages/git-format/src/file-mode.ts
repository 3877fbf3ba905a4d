/**
 * Git's tree entry modes, named once (git's object.h S_IF* with S_IFGITLINK; go-git's
 * plumbing/filemode). Trees store them in octal without leading zeros: a directory is "40000".
 */
export const FileMode = {
  Dir: 0o040000,
  Regular: 0o100644,
  Executable: 0o100755,
  Symlink: 0o120000,
  Submodule: 0o160000,
} as const;

/** The bits of a mode that give its type (S_IFMT); git treats an unknown type as a submodule. */
export const MODE_TYPE_MASK = 0o170000;
/** The type bits of a regular file, executable or not (S_IFREG). */
export const MODE_TYPE_REGULAR = 0o100000;

/** A mode as a tree writes it: octal, no leading zero ("40000", "100644"). */
export function fileModeText(mode: number): string {
  return mode.toString(8);
}
