import { hash } from 'node:crypto';

/** Query parameters that only track where a click came from; exact names (lower-case). */
const TRACKING_PARAMS = new Set([
  'fbclid', 'gclid', 'gclsrc', 'dclid', 'gbraid', 'wbraid', 'msclkid', 'yclid', 'twclid', 'ttclid', 'li_fat_id',
  'mc_cid', 'mc_eid', 'ref', 'ref_src', 'ref_url', 'igshid', 'igsh', '_hsenc', '_hsmi', '__hstc', '__hssc', '__hsfp',
  'hsctatracking', 'mkt_tok', 'oly_anon_id', 'oly_enc_id', 'vero_conv', 'vero_id', 'wickedid', 's_cid', 'cmpid',
  'rss_source', 'guccounter', 'guce_referrer', 'guce_referrer_sig', '_ga', '_gl', 'ncid', 'sr_share',
]);
/** Parameter-name prefixes that are tracking (utm_source, utm_medium, ..., pk_campaign, ...). */
const TRACKING_PREFIXES = ['utm_', 'pk_', 'mtm_', 'matomo_', 'hsa_', 'stm_'];

function isTrackingParam(rawName: string): boolean {
  let name = rawName;
  try {
    name = decodeURIComponent(rawName.replace(/\+/g, ' '));
  } catch {
    // keep the raw name
  }
  name = name.toLowerCase();
  return TRACKING_PARAMS.has(name) || TRACKING_PREFIXES.some((p) => name.startsWith(p));
}

/**
 * The canonical form of an http(s) URL used for de-duplication: lower-case scheme and host,
 * no default port, no fragment, tracking parameters removed (other parameters keep their order
 * and their original encoding), and "/" as the path of the root. Anything else (not a URL, or
 * another scheme) is returned unchanged.
 */
export function canonicalUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return url;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return url;
  // WHATWG URL already lower-cases scheme and host, drops the default port and gives the root
  // path as "/"; other paths keep a trailing slash, since /a and /a/ may differ.
  parsed.hash = '';
  const query = parsed.search.startsWith('?') ? parsed.search.slice(1) : parsed.search;
  if (query !== '') {
    const kept = query.split('&').filter((pair) => pair !== '' && !isTrackingParam(pair.split('=')[0] ?? ''));
    parsed.search = kept.length > 0 ? `?${kept.join('&')}` : '';
  }
  let href = parsed.href;
  if (href.endsWith('?')) href = href.slice(0, -1);
  if (href.endsWith('#')) href = href.slice(0, -1);
  return href;
}

/** SHA-256 (hex) of the canonical URL. */
export function urlHash(url: string): string {
  return canonicalUrlHash(canonicalUrl(url));
}

/** {@link urlHash} of a URL already canonicalised: saves a second parse when both are needed. */
export function canonicalUrlHash(canonical: string): string {
  // One-shot hash(): no Hash object per call, which matters at thousands of items per run.
  return hash('sha256', canonical, 'hex');
}
