import { FsckError } from './fsck.js';

/*
 * The checks git's fsck makes on the content of every blob a tree names `.gitmodules` (fsck.c
 * fsck_blob and fsck_gitmodules_fn, with submodule-config.c's check_submodule_name and
 * check_submodule_url): submodule names that climb out of .git/modules, and urls or paths a
 * later `git submodule` would hand to another program as an option, have been the way into
 * several of git's CVEs. Under receive.fsckObjects these are errors; a blob that does not parse
 * as a config file is only "info" to git (gitmodulesParse), so only what parsed before the
 * error is checked, as in git.
 */

/** git's core.bigFileThreshold default: a larger .gitmodules is not loaded but refused (gitmodulesLarge). */
export const GITMODULES_MAX_BYTES = 512 * 1024 * 1024;

/** Throws FsckError (gitmodulesLarge, gitmodulesName, gitmodulesUrl, gitmodulesPath, gitmodulesUpdate) for a malicious .gitmodules. */
export function checkGitmodules(data: Uint8Array): void {
  if (data.length > GITMODULES_MAX_BYTES) throw new FsckError('gitmodulesLarge', '.gitmodules too large to parse');
  parseGitConfig(data, (variable, value) => {
    const entry = submoduleEntry(variable);
    if (entry === undefined) return;
    if (!isValidSubmoduleName(entry.name)) throw new FsckError('gitmodulesName', `disallowed submodule name: ${entry.name}`);
    if (value === undefined) return;
    if (entry.key === 'url' && !isValidSubmoduleUrl(value)) throw new FsckError('gitmodulesUrl', `disallowed submodule url: ${value}`);
    if (entry.key === 'path' && looksLikeCommandLineOption(value))
      throw new FsckError('gitmodulesPath', `disallowed submodule path: ${value}`);
    if (entry.key === 'update' && value.startsWith('!'))
      throw new FsckError('gitmodulesUpdate', `disallowed submodule update setting: ${value}`);
  });
}

/** git's parse_config_key(var, "submodule", …): only "submodule.<name>.<key>" counts. */
function submoduleEntry(variable: string): { name: string; key: string } | undefined {
  if (!variable.startsWith('submodule.')) return undefined;
  const rest = variable.slice('submodule.'.length);
  const dot = rest.lastIndexOf('.');
  if (dot < 0) return undefined;
  return { name: cString(rest.slice(0, dot)), key: rest.slice(dot + 1) };
}

/** git works on C strings: a NUL ends them. */
function cString(text: string): string {
  const nul = text.indexOf('\0');
  return nul < 0 ? text : text.slice(0, nul);
}

const isDirSeparator = (c: string | undefined) => c === '/' || c === '\\';

/** check_submodule_name: not empty, and no ".." path component (with either separator, whatever the platform). */
export function isValidSubmoduleName(name: string): boolean {
  if (name === '') return false;
  for (let i = 0; i <= name.length; i++) {
    if (i > 0 && !isDirSeparator(name[i - 1])) continue;
    if (name[i] === '.' && name[i + 1] === '.' && (i + 2 === name.length || isDirSeparator(name[i + 2]))) return false;
  }
  return true;
}

/** path.c's looks_like_command_line_option. */
export function looksLikeCommandLineOption(text: string): boolean {
  return text.startsWith('-');
}

const startsWithDotSlash = (url: string) => url[0] === '.' && isDirSeparator(url[1]);
const startsWithDotDotSlash = (url: string) => url[0] === '.' && url[1] === '.' && isDirSeparator(url[2]);

/** check_submodule_url. */
export function isValidSubmoduleUrl(value: string): boolean {
  const url = cString(value);
  if (looksLikeCommandLineOption(url)) return false;
  if (startsWithDotSlash(url) || startsWithDotDotSlash(url) || url.startsWith('git://')) {
    // Could be appended to an http URL and url-decoded.
    if (urlDecode(url).includes('\n')) return false;
    // "../" past the root can rewrite the host part (CVE-2020-11008).
    let next = url;
    let dotdots = 0;
    for (;;) {
      if (startsWithDotDotSlash(next)) {
        dotdots++;
        next = next.slice(3);
      } else if (startsWithDotSlash(next)) {
        next = next.slice(2);
      } else break;
    }
    return !(dotdots > 0 && (next[0] === ':' || next[0] === '/'));
  }
  const curlUrl = urlForCurl(url);
  if (curlUrl !== undefined) return isNormalizableUrl(curlUrl) && !urlDecode(curlUrl).includes('\n');
  return true;
}

/** url_to_curl_url: the URL git-remote-curl would be given, for the transports it serves. */
function urlForCurl(url: string): string | undefined {
  for (const prefix of ['http::', 'https::', 'ftp::', 'ftps::']) if (url.startsWith(prefix)) return url.slice(prefix.length);
  for (const scheme of ['http://', 'https://', 'ftp://', 'ftps://']) if (url.startsWith(scheme)) return url;
  return undefined;
}

const HEX = /^[0-9a-fA-F]{2}$/;

/** url_decode: %XX sequences decoded, anything else kept (the result compared bytewise, as latin1). */
function urlDecode(url: string): string {
  return url.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function escapesAreValid(part: string): boolean {
  for (let i = part.indexOf('%'); i >= 0; i = part.indexOf('%', i + 1)) {
    if (!HEX.test(part.slice(i + 1, i + 3))) return false;
  }
  return true;
}

/**
 * Whether urlmatch.c's url_normalize accepts the URL (it refuses what it cannot normalize, and
 * check_submodule_url refuses with it): a scheme and "://", valid %-escapes, a host of host
 * characters, a port from 1 to 65535, no ".." above the root of the path.
 */
function isNormalizableUrl(url: string): boolean {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url);
  if (!scheme) return false;
  let rest = url.slice(scheme[0].length);
  const slash = rest.search(/[/?#]/);
  let authority = slash < 0 ? rest : rest.slice(0, slash);
  rest = slash < 0 ? '' : rest.slice(slash);
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    if (!escapesAreValid(authority.slice(0, at))) return false;
    authority = authority.slice(at + 1);
  }
  const port = /:(\d*)$/.exec(authority);
  const host = port && !authority.endsWith(']') ? authority.slice(0, port.index) : authority;
  if (host === '' || !/^[A-Za-z0-9.\-_[:\]]+$/.test(host)) return false;
  if (port && port[1] !== '') {
    const number = Number(port[1]);
    if (number === 0 || number > 65535) return false;
  }
  if (!escapesAreValid(rest)) return false;
  const query = rest.search(/[?#]/);
  const segments = (query < 0 ? rest : rest.slice(0, query)).split('/').slice(1);
  let depth = 0;
  for (const segment of segments) {
    if (segment === '..') {
      if (depth === 0) return false;
      depth--;
    } else if (segment !== '.') depth++;
  }
  return true;
}

/**
 * A port of config.c's parser as git_config_from_mem runs it on a blob: `[section "sub"]`
 * headers, `key = value` lines, quotes, escapes, comments and continuations. Calls `onEntry`
 * with "section.sub.key" (section and key lower-cased) and the value (undefined for a key
 * without "="). Stops silently at the first syntax error, as git does with CONFIG_ERROR_SILENT.
 */
export function parseGitConfig(data: Uint8Array, onEntry: (variable: string, value: string | undefined) => void): boolean {
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  let pos = text.startsWith('\xef\xbb\xbf') ? 3 : 0;
  let eof = false;
  const next = (): string => {
    if (pos >= text.length) {
      eof = true;
      return '\n';
    }
    const c = text[pos++];
    if (c === '\r' && text[pos] === '\n') return text[pos++];
    return c;
  };
  const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
  const isAlpha = (c: string) => /^[A-Za-z]$/.test(c);
  const isKeyChar = (c: string) => /^[A-Za-z0-9-]$/.test(c);

  const baseVariable = (): string | undefined => {
    let name = '';
    for (;;) {
      let c = next();
      if (eof) return undefined;
      if (c === ']') return name;
      if (isSpace(c)) {
        // get_extended_base_var: [section "subsection"], the subsection kept as written.
        while (isSpace(c)) {
          if (c === '\n') return undefined;
          c = next();
        }
        if (c !== '"') return undefined;
        name += '.';
        for (;;) {
          c = next();
          if (c === '\n') return undefined;
          if (c === '"') break;
          if (c === '\\') {
            c = next();
            if (c === '\n') return undefined;
          }
          name += c;
        }
        return next() === ']' ? name : undefined;
      }
      if (!isKeyChar(c) && c !== '.') return undefined;
      name += c.toLowerCase();
    }
  };

  const value = (): string | undefined => {
    let out = '';
    let quote = false;
    let comment = false;
    let trimAt = 0;
    for (;;) {
      let c = next();
      if (c === '\n') {
        if (quote) return undefined;
        return trimAt > 0 ? out.slice(0, trimAt) : out;
      }
      if (comment) continue;
      if (isSpace(c) && !quote) {
        if (trimAt === 0) trimAt = out.length;
        if (out.length > 0) out += c;
        continue;
      }
      if (!quote && (c === ';' || c === '#')) {
        comment = true;
        continue;
      }
      trimAt = 0;
      if (c === '\\') {
        c = next();
        if (c === '\n') continue;
        const escaped = ({ t: '\t', b: '\b', n: '\n', '\\': '\\', '"': '"' } as Record<string, string>)[c];
        if (escaped === undefined) return undefined;
        out += escaped;
        continue;
      }
      if (c === '"') {
        quote = !quote;
        continue;
      }
      out += c;
    }
  };

  let base = '';
  let comment = false;
  for (;;) {
    const c = next();
    if (c === '\n') {
      if (eof) return true;
      comment = false;
      continue;
    }
    if (comment || isSpace(c)) continue;
    if (c === '#' || c === ';') {
      comment = true;
      continue;
    }
    if (c === '[') {
      const name = baseVariable();
      if (name === undefined || name === '') return false;
      base = `${name}.`;
      continue;
    }
    if (!isAlpha(c)) return false;
    let key = c.toLowerCase();
    let k = next();
    while (!eof && isKeyChar(k)) {
      key += k.toLowerCase();
      k = next();
    }
    while (k === ' ' || k === '\t') k = next();
    let entryValue: string | undefined;
    if (k !== '\n') {
      if (k !== '=') return false;
      entryValue = value();
      if (entryValue === undefined) return false;
    }
    onEntry(base + key, entryValue);
  }
}
