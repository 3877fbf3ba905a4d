import { ZERO_OID, encodePktLines, FLUSH_PKT } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';
import { AGENT } from '../options.js';

/**
 * What we offer a pushing client. `no-thin` is deliberately absent: thin packs are completed
 * from the repository's objects. Order as git's receive-pack prints them.
 */
export const RECEIVE_PACK_CAPABILITIES = [
  'report-status',
  'report-status-v2',
  'delete-refs',
  'side-band-64k',
  'quiet',
  'atomic',
  'ofs-delta',
  'push-options',
  'object-format=sha1',
  `agent=${AGENT}`,
].join(' ');

/**
 * The body of `GET info/refs?service=git-receive-pack` after the "# service=" line and its
 * flush, as `git http-backend` writes it: every ref (capabilities after a NUL on the first),
 * then a flush. An empty repository advertises "capabilities^{}" with the zero id.
 * No HEAD line: receive-pack never advertises it.
 */
export async function advertiseReceivePack(repo: Repository): Promise<Buffer[]> {
  const refs = await repo.refs.list();
  const lines =
    refs.length === 0
      ? [`${ZERO_OID} capabilities^{}\0${RECEIVE_PACK_CAPABILITIES}\n`]
      : refs.map((ref, i) => (i === 0 ? `${ref.oid} ${ref.name}\0${RECEIVE_PACK_CAPABILITIES}\n` : `${ref.oid} ${ref.name}\n`));
  return [encodePktLines(lines), FLUSH_PKT];
}
