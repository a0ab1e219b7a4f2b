/** Everything the gateway must refuse, each with its stable code: at the upgrade, at the API, on the socket. */
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIdentity } from '../../gateway/auth/identity.js';
import { signToken } from '../../gateway/auth/token.js';
import type { RunningGateway } from '../../gateway/server.js';
import { gatewayEnv, http, IDENTITY_SECRET, login, makeAgent, sendAndAck, spawnGateway, TestClient, TOKEN_SECRET, visitorToken, type GatewayEnv } from './helpers.js';

let env: GatewayEnv;
let gw: RunningGateway;
let token: string;

beforeAll(async () => {
  env = await gatewayEnv('refusals');
  gw = await env.start({ settings: { max_payload_bytes: 2048, rate_limit: { frames_per_second: 5, burst: 5 } } });
  token = (await visitorToken(gw.port)).token;
});

afterAll(async () => {
  await env?.close();
});

const now = () => Math.floor(Date.now() / 1000);

describe('refused at the upgrade (HTTP status before any socket exists)', () => {
  const visitor = { kind: 'visitor' as const, visitorId: '5b0e8f4e-6a53-4a53-9c1a-0c5f1d7d2a11', customerId: null, identity: null };
  it.each([
    ['no token', () => TestClient.open(gw.port, null), 401, 'GW_AUTH_REQUIRED'],
    ['an expired token', () => TestClient.open(gw.port, signToken(visitor, TOKEN_SECRET, 60, Date.now() - 3_600_000).token), 401, 'GW_TOKEN_EXPIRED'],
    ['a token signed with another key', () => TestClient.open(gw.port, signToken(visitor, 'another-secret-of-at-least-32-characters', 60).token), 401, 'GW_TOKEN_INVALID'],
    ['a tampered token', () => TestClient.open(gw.port, token.replace(/\.([A-Za-z0-9_-])/, (_m, c: string) => `.${c === 'A' ? 'B' : 'A'}`)), 401, 'GW_TOKEN_INVALID'],
    ['a wrong Origin', () => TestClient.open(gw.port, token, { origin: 'https://evil.example' }), 403, 'GW_ORIGIN_REFUSED'],
    ['an Origin on the same host but another port', () => TestClient.open(gw.port, token, { origin: `http://127.0.0.1:${gw.port + 1}` }), 403, 'GW_ORIGIN_REFUSED'],
    ['the token without the junction.v1 subprotocol', () => TestClient.open(gw.port, token, { protocols: [`bearer.${token}`] }), 400, 'GW_BAD_REQUEST'],
  ])('%s', async (_what, open, status, code) => {
    await expect(open()).rejects.toEqual({ status, code });
  });

  describe('a request target that does not parse (a gateway in its own process: a throw there would end it)', () => {
    let child: { proc: ChildProcess; port: number };
    beforeAll(async () => {
      child = await spawnGateway(env);
    });
    afterAll(async () => {
      const proc = child?.proc;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM'); // the fixture closes the gateway, releasing its connections before the database is dropped
      await exited;
    });

    /** Sends an upgrade request with `target` as it is (fetch and ws would normalize it); resolves with the raw answer. */
    const rawUpgrade = (port: number, target: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1');
        let got = '';
        socket.on('data', (d) => (got += d.toString()));
        socket.on('end', () => resolve(got));
        socket.on('error', reject);
        socket.setTimeout(5000, () => (socket.destroy(), reject(new Error(`no answer within 5 s; got ${JSON.stringify(got)}`))));
        socket.write(
          `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: junction.v1, bearer.${token}\r\n\r\n`,
        );
      });

    // Node's HTTP parser lets these through; `new URL` throws on them.
    it.each(['//%', '//[', '//:99999'])('%s: 400 GW_BAD_REQUEST, and the gateway still serves', async (target) => {
      const answer = await rawUpgrade(child.port, target);
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer).toMatch(/\r\nX-Junction-Error: GW_BAD_REQUEST\r\n/);
      expect(child.proc.exitCode).toBeNull();
      (await TestClient.open(child.port, token)).close();
      expect((await http(child.port, 'GET', '/healthz')).status).toBe(200);
    });
  });

  it('accepts the same token from an allowed Origin and without one (non-browser client)', async () => {
    (await TestClient.open(gw.port, token)).close();
    (await TestClient.open(gw.port, token, { origin: null })).close();
  });

  it('accepts a page the gateway served itself (Origin matches Host) without listing it', async () => {
    (await TestClient.open(gw.port, token, { origin: `http://127.0.0.1:${gw.port}` })).close();
  });
});

describe('sockets per participant (gateway.max_sockets_per_participant)', () => {
  /** An upgrade with this token that `ws` itself refuses (a malformed Sec-WebSocket-Key): authenticated, then failed. */
  const failedHandshake = (port: number, bearer: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let got = '';
      socket.on('data', (d) => (got += d.toString()));
      socket.on('close', () => resolve(got));
      socket.on('error', reject);
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: not-a-key\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: junction.v1, bearer.${bearer}\r\n\r\n`,
      );
    });

  it('one more than the cap is refused with 429 GW_TOO_MANY_SOCKETS; other participants and freed slots are not', async () => {
    const capped = await env.start({ settings: { max_sockets_per_participant: 2 } });
    const mine = (await visitorToken(capped.port)).token;
    const first = await TestClient.open(capped.port, mine);
    // Handshakes ws refuses after authentication hold no slot afterwards.
    for (let i = 0; i < 3; i++) expect(await failedHandshake(capped.port, mine)).toMatch(/^HTTP\/1\.1 400 /);
    const second = await TestClient.open(capped.port, mine);
    await expect(TestClient.open(capped.port, mine)).rejects.toEqual({ status: 429, code: 'GW_TOO_MANY_SOCKETS' });
    (await TestClient.open(capped.port, (await visitorToken(capped.port)).token)).close();
    first.close();
    await first.closed;
    const deadline = Date.now() + 5000;
    while (capped.sockets() > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    (await TestClient.open(capped.port, mine)).close();
    second.close();
  });
});

describe('refused at the REST API', () => {
  it('a login with a wrong password or an unknown email', async () => {
    const agent = await makeAgent(env);
    const wrong = await http(gw.port, 'POST', '/api/auth/login', { email: agent.email, password: 'nope-nope' });
    const unknown = await http(gw.port, 'POST', '/api/auth/login', { email: 'nobody@example.com', password: 'nope-nope' });
    expect([wrong.status, wrong.code, unknown.status, unknown.code]).toEqual([401, 'GW_BAD_CREDENTIALS', 401, 'GW_BAD_CREDENTIALS']);
    expect(typeof (await login(gw.port, agent))).toBe('string');
  });

  it('a bad body', async () => {
    const r = await http(gw.port, 'POST', '/api/auth/login', '{"email": ');
    expect([r.status, r.code]).toEqual([400, 'GW_BAD_REQUEST']);
  });

  it.each([
    ['a body that does not inflate as its Content-Encoding says', 'POST', '/api/auth/login', { 'content-encoding': 'gzip' }, 400],
    ['an unknown Content-Encoding', 'POST', '/api/auth/login', { 'content-encoding': 'snappy' }, 415],
    ['an unknown charset', 'POST', '/api/auth/login', { 'content-type': 'application/json; charset=klingon' }, 415],
  ])('%s: a 4xx GW_BAD_REQUEST, not a 500', async (_what, method, path, headers, status) => {
    const r = await http(gw.port, method, path, { email: 'a@b.cn', password: 'x' }, headers);
    expect([r.status, r.code]).toEqual([status, 'GW_BAD_REQUEST']);
    expect((r.json as { error: { message: string } }).error.message).toMatch(/^body: /);
  });

  it('a path parameter that is not valid percent-encoding: 400 GW_BAD_REQUEST naming the path', async () => {
    const token = await login(gw.port, await makeAgent(env));
    const r = await http(gw.port, 'GET', '/api/conversations/%E0%A4%A/messages', undefined, { authorization: `Bearer ${token}` });
    expect([r.status, r.code]).toEqual([400, 'GW_BAD_REQUEST']);
    expect((r.json as { error: { message: string } }).error.message).toMatch(/^path: /);
  });

  const identity = { email: 'Ann@Example.com', phone: '138 0013 8000' };
  it.each([
    ['unsigned', { identity }],
    ['badly signed', { identity, timestamp: now(), signature: signIdentity(identity, now(), 'not-the-shared-secret') }],
    ['signed for other claims', { identity: { ...identity, email: 'eve@example.com' }, timestamp: now(), signature: signIdentity(identity, now(), IDENTITY_SECRET) }],
    ['signed too long ago (replay)', { identity, timestamp: now() - 3600, signature: signIdentity(identity, now() - 3600, IDENTITY_SECRET) }],
    ['a signature that is not hex', { identity, timestamp: now(), signature: 'zz' }],
  ])('a visitor identity claim %s', async (_what, body) => {
    const r = await http(gw.port, 'POST', '/api/visitor/session', body);
    expect([r.status, r.code]).toEqual([401, 'GW_BAD_IDENTITY_SIGNATURE']);
  });

  it('accepts a well-signed identity (normalized into the token)', async () => {
    const ts = now();
    const r = await http(gw.port, 'POST', '/api/visitor/session', { identity, timestamp: ts, signature: signIdentity(identity, ts, IDENTITY_SECRET) });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ identified: true, customerLinked: false });
    const claims = JSON.parse(Buffer.from((r.json!.token as string).split('.')[1]!, 'base64url').toString());
    expect(claims.identity).toEqual({ email: 'ann@example.com', phone: '+8613800138000' });
  });
});

describe('refused on the socket (error frame, then a stable close code)', () => {
  async function violate(frames: (string | Buffer)[], hello = true) {
    const client = hello ? (await TestClient.connect(gw.port, token)).client : await TestClient.open(gw.port, token);
    for (const f of frames) client.ws.send(f);
    return { client, closed: await client.closed };
  }

  it('malformed JSON: GW_BAD_FRAME, 4400', async () => {
    const { client, closed } = await violate(['{"type": "msg", ']);
    expect(closed.code).toBe(4400);
    expect(client.frames.at(-1)).toMatchObject({ type: 'error', code: 'GW_BAD_FRAME' });
  });

  it('a frame that does not fit its type: GW_BAD_FRAME, 4400', async () => {
    const { client, closed } = await violate([JSON.stringify({ type: 'msg', conversationId: 'x', clientMsgId: 'a', text: 'b' })]);
    expect(closed.code).toBe(4400);
    expect(client.frames.at(-1)).toMatchObject({ type: 'error', code: 'GW_BAD_FRAME' });
  });

  it('an unknown type: GW_UNKNOWN_TYPE, 4404', async () => {
    const { client, closed } = await violate([JSON.stringify({ type: 'subscribe', to: 'everything' })]);
    expect(closed.code).toBe(4404);
    expect(client.frames.at(-1)).toMatchObject({ type: 'error', code: 'GW_UNKNOWN_TYPE' });
  });

  it('anything but hello first: GW_BAD_FRAME, 4400', async () => {
    const { closed } = await violate([JSON.stringify({ type: 'typing', conversationId: 1 })], false);
    expect(closed.code).toBe(4400);
  });

  it('an oversized frame: 1009 (maxPayload)', async () => {
    const { closed } = await violate([JSON.stringify({ type: 'msg', clientMsgId: 'big', text: 'x'.repeat(4096) })]);
    expect(closed.code).toBe(1009);
  });

  it('a binary frame: GW_BAD_FRAME, 4400', async () => {
    const { closed } = await violate([Buffer.from([1, 2, 3])]);
    expect(closed.code).toBe(4400);
  });

  it('a text with U+0000 (PostgreSQL cannot store it): GW_BAD_FRAME, 4400; a message committed alongside is stored', async () => {
    // One lane and a long window: both messages would share one transaction.
    const batching = await env.start({ settings: { commit_window_ms: 100, commit_lanes: 1 } });
    const open = async () => {
      const { client } = await TestClient.connect(batching.port, (await visitorToken(batching.port)).token);
      return { client, conversationId: (await sendAndAck(client, { clientMsgId: 'first', text: 'hi' })).conversationId };
    };
    const [bad, good] = [await open(), await open()];
    bad.client.send({ type: 'msg', conversationId: bad.conversationId, clientMsgId: 'nul', text: 'a\u0000b' });
    const ack = await sendAndAck(good.client, { conversationId: good.conversationId, clientMsgId: 'second', text: 'fine' });
    expect(ack.seq).toBe(2);
    const closed = await Promise.race([bad.client.closed, new Promise((r) => setTimeout(r, 5000, 'still open'))]);
    expect(closed).toMatchObject({ code: 4400 });
    expect(bad.client.frames.at(-1)).toMatchObject({ type: 'error', code: 'GW_BAD_FRAME' });
    const { rows } = await env.db.pool.query<{ text: string }>('SELECT text FROM gateway.message WHERE conversation_id = $1 ORDER BY seq', [good.conversationId]);
    expect(rows.map((r) => r.text)).toEqual(['hi', 'fine']);
    good.client.close();
  });

  it('a flood beyond the per-socket rate limit: GW_RATE_LIMITED, 4408', async () => {
    // 5 frames a second plus a burst of 5: 40 frames at once is far beyond.
    const frames = Array.from({ length: 40 }, () => JSON.stringify({ type: 'typing', conversationId: 999_999 }));
    const { client, closed } = await violate(frames);
    expect(closed.code).toBe(4408);
    expect(client.frames.at(-1)).toMatchObject({ type: 'error', code: 'GW_RATE_LIMITED' });
  });
});

describe('conversations one visitor opens (gateway.visitor_conversations_per_hour)', () => {
  it('past the limit a message starting one more is refused with GW_RATE_LIMITED naming its clientMsgId; nothing is stored, the socket goes on, and writing in an existing one works', async () => {
    const limited = await env.start({ settings: { visitor_conversations_per_hour: 2, reopen_within_s: 3600 } });
    const { client: visitor, welcome } = await TestClient.connect(limited.port, (await visitorToken(limited.port)).token);
    const opened: number[] = [];
    for (const n of [1, 2]) {
      const { conversationId } = await sendAndAck(visitor, { clientMsgId: `open-${n}`, text: 'hello' });
      opened.push(conversationId);
      visitor.send({ type: 'close', conversationId });
      await visitor.next((f) => f.type === 'conversation' && f.event === 'closed' && f.conversation.id === conversationId);
    }
    visitor.send({ type: 'msg', clientMsgId: 'open-3', text: 'one more' });
    const refused = await visitor.next((f) => f.type === 'error' && f.clientMsgId === 'open-3');
    expect(refused).toMatchObject({ code: 'GW_RATE_LIMITED', message: expect.stringContaining('opened 2 conversations in the last hour') });
    const visitorId = welcome.participantId.replace(/^visitor:/, '');
    const { rows } = await env.db.pool.query('SELECT count(*)::int AS n FROM gateway.conversation WHERE visitor_id = $1', [visitorId]);
    expect(rows[0].n).toBe(2);
    // Reopening the last one is not a new conversation.
    const again = await sendAndAck(visitor, { conversationId: opened[1], clientMsgId: 'open-4', text: 'about that order' });
    expect(again.conversationId).toBe(opened[1]);
    visitor.close();
  });
});

