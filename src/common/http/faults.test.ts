import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { formatFault, novaFaultName, webobFlavour } from './faults.js';

void describe('fault bodies per service', () => {
  void test('nova names faults by status, 406 and 500 are computeFault', () => {
    assert.equal(novaFaultName(404), 'itemNotFound');
    assert.equal(novaFaultName(405), 'badMethod');
    assert.equal(novaFaultName(409), 'conflictingRequest');
    assert.equal(novaFaultName(413), 'overLimit');
    assert.equal(novaFaultName(429), 'overLimit');
    assert.equal(novaFaultName(406), 'computeFault');
    assert.equal(novaFaultName(500), 'computeFault');
    const f = formatFault('nova', { status: 404, message: 'Instance x could not be found.' });
    assert.deepEqual(JSON.parse(f.body), { itemNotFound: { code: 404, message: 'Instance x could not be found.' } });
    assert.match(f.contentType, /^application\/json/);
  });

  void test('nova overLimit carries retryAfter', () => {
    const f = formatFault('nova', { status: 429, message: 'slow down', extra: { retryAfter: 30 } });
    assert.deepEqual(JSON.parse(f.body), { overLimit: { code: 429, message: 'slow down', retryAfter: '30' } });
  });

  void test('cinder uses the same shape', () => {
    const f = formatFault('cinder', { status: 400, message: 'bad' });
    assert.deepEqual(JSON.parse(f.body), { badRequest: { code: 400, message: 'bad' } });
  });

  void test('neutron shows the exception class as type, webob class by default', () => {
    const f = formatFault('neutron', { status: 404, message: 'Network n could not be found.', type: 'NetworkNotFound' });
    assert.deepEqual(JSON.parse(f.body), { NeutronError: { type: 'NetworkNotFound', message: 'Network n could not be found.', detail: '' } });
    const g = formatFault('neutron', { status: 405, message: 'no' });
    assert.equal(JSON.parse(g.body).NeutronError.type, 'HTTPMethodNotAllowed');
  });

  void test('keystone error has code, message, title', () => {
    const f = formatFault('keystone', { status: 401, message: 'The request you have made requires authentication.' });
    assert.deepEqual(JSON.parse(f.body), {
      error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' },
    });
  });

  void test('placement errors list with webob-stripped detail, code and request id', () => {
    const f = formatFault('placement', {
      status: 404,
      message: 'No resource provider with uuid 123 found',
      requestId: 'req-1',
      errorCode: 'placement.undefined_code',
    });
    assert.deepEqual(JSON.parse(f.body), {
      errors: [
        {
          status: 404,
          title: 'Not Found',
          detail: 'The resource could not be found.\n\n No resource provider with uuid 123 found  ',
          code: 'placement.undefined_code',
          request_id: 'req-1',
        },
      ],
    });
  });

  void test('glance renders like webob: plain text, json or html by Accept', () => {
    const plain = formatFault('glance', { status: 404, message: 'No image found with ID abc' });
    assert.equal(plain.body, '404 Not Found\n\nNo image found with ID abc\n\n   ');
    assert.match(plain.contentType, /^text\/plain/);
    const json = formatFault('glance', { status: 404, message: 'No image found with ID abc', accept: 'application/json' });
    assert.deepEqual(JSON.parse(json.body), { message: 'No image found with ID abc<br /><br />\n\n\n', code: '404 Not Found', title: 'Not Found' });
    const html = formatFault('glance', { status: 404, message: 'gone', accept: '*/*' });
    assert.match(html.contentType, /^text\/html/);
    assert.match(html.body, /<title>404 Not Found<\/title>/);
  });

  void test('webob accept matching', () => {
    assert.equal(webobFlavour(undefined), 'plain');
    assert.equal(webobFlavour('application/json'), 'json');
    assert.equal(webobFlavour('text/html, application/json;q=0.5'), 'html');
    assert.equal(webobFlavour('text/html;q=0.1, application/json'), 'json');
    assert.equal(webobFlavour('*/*'), 'html');
    assert.equal(webobFlavour('application/octet-stream'), 'plain');
  });
});
