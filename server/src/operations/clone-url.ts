/** The URL git clones a repository from, as the API, the web pages and the CLI show it. */
export function cloneUrl(baseUrl: string, owner: string, name: string): string {
  return `${baseUrl}/${encodeURIComponent(owner)}/${encodeURIComponent(name)}.git`;
}
