/**
 * Fault bodies, one formatter per OpenStack service family. Each reproduces what the
 * upstream service puts on the wire for an error, so clients parse our errors unchanged.
 * @module
 */

export type FaultStyle = 'nova' | 'cinder' | 'neutron' | 'keystone' | 'glance' | 'placement';

export interface FaultInput {
  status: number;
  message: string;
  /** Exception class name (Neutron shows it as `type`). */
  type?: string;
  detail?: string;
  /** Keystone's `title`; defaults to the HTTP reason phrase. */
  title?: string;
  /** Placement error code (`placement.concurrent_update`); shown from placement 1.23. */
  errorCode?: string;
  requestId?: string;
  /** The request's Accept header (Glance answers the way webob does: html, json or plain). */
  accept?: string;
  /** Extra fields some faults carry (Nova `retryAfter`, Placement `min_version`/`max_version`). */
  extra?: Record<string, unknown>;
}

export interface FormattedFault {
  contentType: string;
  body: string;
}

/** HTTP reason phrases, as Python's http.client / webob spell them. */
export const REASON_PHRASES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 408: 'Request Timeout', 409: 'Conflict', 410: 'Gone',
  411: 'Length Required', 412: 'Precondition Failed', 413: 'Request Entity Too Large', 414: 'Request-URI Too Long',
  415: 'Unsupported Media Type', 416: 'Requested Range Not Satisfiable', 422: 'Unprocessable Entity',
  429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Gateway Timeout',
};

export function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? (status >= 500 ? 'Internal Server Error' : 'Bad Request');
}

/** webob's default `explanation` per status (what a bare `HTTPNotFound()` says). */
export const WEBOB_EXPLANATIONS: Record<number, string> = {
  400: 'The server could not comply with the request since it is either malformed or otherwise incorrect.',
  401: 'This server could not verify that you are authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required.',
  403: 'Access was denied to this resource.',
  404: 'The resource could not be found.',
  405: 'The server could not comply with the request since it is either malformed or otherwise incorrect.',
  406: 'The resource could not be generated that was acceptable to your browser (content of type ${HTTP_ACCEPT}.',
  409: 'There was a conflict when trying to complete your request.',
  413: 'The request is larger than the server is willing or able to process.',
  415: 'The request media type ${CONTENT_TYPE} is not supported by this server.',
  500: 'The server has either erred or is incapable of performing the requested operation.',
  501: 'The request method ${REQUEST_METHOD} is not implemented for this server.',
  503: 'The server is currently unavailable. Please try again at a later time.',
};

/** Nova and Cinder name the fault by status (nova/api/openstack/wsgi.py `Fault._fault_names`). */
export const NOVA_FAULT_NAMES: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

export function novaFaultName(status: number): string {
  // Anything unnamed (406 included, as upstream) is a computeFault.
  return NOVA_FAULT_NAMES[status] ?? 'computeFault';
}

/** webob exception class names, which Neutron shows as `type` for framework-level errors. */
const WEBOB_CLASS: Record<number, string> = {
  400: 'HTTPBadRequest', 401: 'HTTPUnauthorized', 403: 'HTTPForbidden', 404: 'HTTPNotFound',
  405: 'HTTPMethodNotAllowed', 406: 'HTTPNotAcceptable', 409: 'HTTPConflict', 413: 'HTTPRequestEntityTooLarge',
  415: 'HTTPUnsupportedMediaType', 500: 'HTTPInternalServerError', 501: 'HTTPNotImplemented',
  503: 'HTTPServiceUnavailable',
};

export function webobClassName(status: number): string {
  return WEBOB_CLASS[status] ?? (status >= 500 ? 'HTTPInternalServerError' : 'HTTPBadRequest');
}

function json(body: unknown): FormattedFault {
  return { contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) };
}

function novaFault(f: FaultInput): FormattedFault {
  const inner: Record<string, unknown> = { code: f.status, message: f.message };
  if ((f.status === 413 || f.status === 429) && f.extra?.['retryAfter'] !== undefined) {
    inner['retryAfter'] = String(f.extra['retryAfter']);
  }
  return json({ [novaFaultName(f.status)]: inner });
}

function neutronFault(f: FaultInput): FormattedFault {
  return json({ NeutronError: { type: f.type ?? webobClassName(f.status), message: f.message, detail: f.detail ?? '' } });
}

function keystoneFault(f: FaultInput): FormattedFault {
  return json({ error: { code: f.status, message: f.message, title: f.title ?? reasonPhrase(f.status) } });
}

function placementFault(f: FaultInput): FormattedFault {
  // webob strips the html of its body template: "<explanation>\n\n <detail>  ".
  const explanation = WEBOB_EXPLANATIONS[f.status] ?? '';
  const err: Record<string, unknown> = {
    status: f.status,
    title: f.title ?? reasonPhrase(f.status),
    detail: f.detail ?? (f.message === explanation ? webobPlainBody(explanation, '') : webobPlainBody(explanation, f.message)),
  };
  if (f.errorCode !== undefined) err['code'] = f.errorCode;
  if (f.requestId) err['request_id'] = f.requestId;
  if (f.extra) Object.assign(err, f.extra);
  return json({ errors: [err] });
}

/** webob's body template after `strip_tags`: newlines become spaces, `<br />` becomes a newline. */
function webobPlainBody(explanation: string, detail: string, comment = ''): string {
  const flat = (s: string) => s.replace(/\r/g, '').replace(/\n/g, ' ');
  return `${flat(explanation)}\n\n ${flat(detail)} ${flat(comment)} `;
}

type WebobFlavour = 'html' | 'json' | 'plain';

/** webob picks among text/html and application/json by the Accept header; no match means plain text. */
export function webobFlavour(accept: string | undefined): WebobFlavour {
  if (!accept) return 'plain';
  let best: { flavour: WebobFlavour; q: number; order: number } | null = null;
  const offers: Array<[WebobFlavour, string, string]> = [['html', 'text', 'html'], ['json', 'application', 'json']];
  for (const [i, [flavour, type, sub]] of offers.entries()) {
    let q = -1;
    let specificity = -1;
    for (const part of accept.split(',')) {
      const [range, ...params] = part.trim().toLowerCase().split(';');
      const [rt, rs] = (range ?? '').trim().split('/');
      const s = rt === type && rs === sub ? 2 : rt === type && rs === '*' ? 1 : rt === '*' && rs === '*' ? 0 : -1;
      if (s < 0 || s < specificity) continue;
      const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      specificity = s;
      q = qp ? Number(qp.slice(2)) : 1;
    }
    if (q > 0 && (!best || q > best.q)) best = { flavour, q, order: i };
  }
  return best?.flavour ?? 'plain';
}

/** Glance raises webob exceptions and lets webob render them. */
function glanceFault(f: FaultInput): FormattedFault {
  const status = `${f.status} ${f.title ?? reasonPhrase(f.status)}`;
  // Glance passes its message as the explanation; webob adds the (usually empty) detail.
  const explanation = f.message;
  const detail = f.detail ?? '';
  const flavour = webobFlavour(f.accept);
  if (flavour === 'json') {
    return json({ message: `${explanation}<br /><br />\n${detail}\n\n`, code: status, title: f.title ?? reasonPhrase(f.status) });
  }
  if (flavour === 'html') {
    const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
    const body = `${esc(explanation)}<br /><br />\n${esc(detail)}\n\n`;
    return {
      contentType: 'text/html; charset=UTF-8',
      body: `<html>\n <head>\n  <title>${status}</title>\n </head>\n <body>\n  <h1>${status}</h1>\n  ${body}\n </body>\n</html>`,
    };
  }
  return { contentType: 'text/plain; charset=UTF-8', body: `${status}\n\n${webobPlainBody(explanation, detail)}` };
}

const FORMATTERS: Record<FaultStyle, (f: FaultInput) => FormattedFault> = {
  nova: novaFault,
  cinder: novaFault,
  neutron: neutronFault,
  keystone: keystoneFault,
  glance: glanceFault,
  placement: placementFault,
};

export function formatFault(style: FaultStyle, f: FaultInput): FormattedFault {
  return FORMATTERS[style](f);
}

/** What each service says for the errors the framework raises itself (no route, bad method, bad JSON, 500). */
export interface FrameworkMessages {
  notFound: string;
  badMethod: string;
  malformedBody: string;
  internal: string;
  /** `%(content_type)s` stands for the request's Content-Type. */
  unsupportedMediaType: string;
  tooLarge: string;
}

export function frameworkMessages(style: FaultStyle): FrameworkMessages {
  switch (style) {
    case 'nova':
    case 'cinder':
      return {
        notFound: 'The resource could not be found.',
        badMethod: 'The method specified is not allowed for this resource.',
        malformedBody: 'Malformed request body',
        // Nova appends "\n<class 'X'>" (see app.ts); Cinder hides everything behind webob's text.
        internal: style === 'nova'
          ? 'Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.'
          : WEBOB_EXPLANATIONS[500]!,
        unsupportedMediaType: 'Unsupported Content-Type',
        tooLarge: 'Request is too large.',
      };
    case 'neutron':
      return {
        notFound: 'The resource could not be found.',
        badMethod: WEBOB_EXPLANATIONS[405]!,
        malformedBody: 'Body contains invalid data',
        internal: 'Request Failed: internal server error while processing your request.',
        unsupportedMediaType: 'The request media type %(content_type)s is not supported by this server.',
        tooLarge: 'Request is too large.',
      };
    case 'keystone':
      return {
        notFound: 'The resource could not be found.',
        badMethod: 'The method is not allowed for the requested URL.',
        malformedBody:
          'Expecting to find valid JSON in request body. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.',
        internal: 'An unexpected error prevented the server from fulfilling your request.',
        unsupportedMediaType:
          'Expecting to find application/json in Content-Type header. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.',
        tooLarge: 'Request is too large.',
      };
    case 'glance':
      return {
        notFound: 'The resource could not be found.',
        badMethod: 'The method specified is not allowed for this resource.',
        malformedBody: 'Malformed JSON in request body.',
        internal: 'The server has either erred or is incapable of performing the requested operation.',
        unsupportedMediaType: 'The request media type %(content_type)s is not supported by this server.',
        tooLarge: 'Request is too large.',
      };
    case 'placement':
      return {
        notFound: 'The resource could not be found.',
        badMethod: 'The method specified is not allowed for this resource.',
        malformedBody: 'Malformed JSON: the request body is not valid JSON.',
        internal: 'The server has either erred or is incapable of performing the requested operation.',
        unsupportedMediaType: 'The media type %(content_type)s is not supported, use application/json',
        tooLarge: 'Request is too large.',
      };
  }
}
