/** What the commands print: aligned tables for people, JSON for scripts. */

export type Row = Record<string, string>;

/**
 * Prints rows as a table with a header line, each column as wide as its widest cell
 * (the last column unpadded, so no line ends in spaces); "(none)" on stderr when empty.
 */
export function printTable(columns: readonly string[], rows: readonly Row[], emptyNote: string): void {
  if (rows.length === 0) {
    process.stderr.write(`${emptyNote}\n`);
    return;
  }
  const cells = [columns.map((column) => column.toUpperCase()), ...rows.map((row) => columns.map((column) => oneLine(row[column] ?? '')))];
  const widths = columns.map((_, index) => Math.max(...cells.map((line) => line[index].length)));
  const lines = cells.map((line) => line.map((cell, index) => (index === line.length - 1 ? cell : cell.padEnd(widths[index]))).join('  '));
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Pretty JSON, one document on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A cell never breaks the table: newlines and tabs become spaces. */
function oneLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ');
}

/** "2025-01-31 14:05" from an ISO time, the precision a table needs. */
export function shortTime(iso: string | undefined): string {
  return iso ? iso.slice(0, 16).replace('T', ' ') : '';
}
