// The rider's wallet: a phone key made by WebCrypto (ECDSA P-256, private half not extractable, kept in IndexedDB),
// a credential from /rider/v1 for it, and ride codes signed in the browser over the message docs/ride-code.md lays
// out, shown as a QR code that works with no network until the credential ends.
'use strict';

const API = '/rider/v1';
const CODE_SECONDS = 15;                   // a new code this often; gates accept one for 60 s
const RENEW_WHEN_LEFT_MS = 12 * 3600e3;    // ask for a new credential once less than this is left
const CHECK_EVERY_MS = 60e3;               // how often the wallet looks whether a refresh is due

const TEXT = {
  en: {
    title: 'Ride code', other: '中文', refresh: 'Refresh now', journeys: 'Journeys', charges: 'Charges', pay: 'Pay now',
    refusedTitle: 'No ride code', setup: 'Setting up your wallet…', ready: 'Show this code at the gate',
    offline: 'Offline: code still valid until {0}', expired: 'Your credential has ended. Go online to get a new one.',
    notYet: 'Your credential starts at {0}', nextCode: 'New code in {0} s', validUntil: 'Credential valid until {0}',
    debt: 'You owe {0}.', noDebt: 'Nothing owed.', noJourneys: 'No journeys yet.', noCharges: 'No charges yet.',
    incomplete: 'incomplete', capped: 'capped', inDebt: 'unpaid', account: 'Account {0}', paid: 'Paid {0}. Getting a new code…',
    failed: 'Could not reach the server: {0}', manual: 'The operator has stopped this account. Please contact the operator.',
    denyList: 'This account is on the deny list; it comes off with the next list.',
    owes: 'Your last payment was declined. Pay what you owe to ride again.',
  },
  zh: {
    title: '乘车码', other: 'English', refresh: '立即刷新', journeys: '行程', charges: '扣款', pay: '立即支付',
    refusedTitle: '无法生成乘车码', setup: '正在设置钱包…', ready: '请在闸机出示此码',
    offline: '离线：乘车码有效至 {0}', expired: '乘车凭证已过期，请联网获取新凭证。',
    notYet: '乘车凭证自 {0} 起生效', nextCode: '{0} 秒后更新乘车码', validUntil: '凭证有效至 {0}',
    debt: '您欠款 {0}。', noDebt: '无欠款。', noJourneys: '暂无行程。', noCharges: '暂无扣款。',
    incomplete: '不完整', capped: '已封顶', inDebt: '未支付', account: '账户 {0}', paid: '已支付 {0}，正在获取新乘车码…',
    failed: '无法连接服务器：{0}', manual: '运营方已停用此账户，请联系运营方。',
    denyList: '此账户在禁止名单上，将在下一版名单中解除。',
    owes: '您上次的付款被拒绝。请支付欠款后继续乘车。',
  },
};

const state = { lang: null, key: null, token: null, account: null, credential: null, counter: 0, refusal: null, nextCodeAt: 0, code: null, status: 'setup' };

// ---- storage: one IndexedDB store of named values (the CryptoKeyPair is stored as it is: structured clone keeps
// the private key usable and still not extractable)
function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open('transit-wallet', 1);
    request.onupgradeneeded = () => request.result.createObjectStore('kv');
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function load(name) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const request = db.transaction('kv').objectStore('kv').get(name);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function save(name, value) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction('kv', 'readwrite');
    tx.objectStore('kv').put(value, name);
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
}

// ---- the code format (docs/ride-code.md)
const B45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';

function base45(bytes) {
  let out = '';
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    let n = bytes[i] * 256 + bytes[i + 1];
    const c = n % 45; n = (n - c) / 45;
    const d = n % 45; const e = (n - d) / 45;
    out += B45[c] + B45[d] + B45[e];
  }
  if (bytes.length % 2) {
    const n = bytes[bytes.length - 1];
    out += B45[n % 45] + B45[Math.floor(n / 45)];
  }
  return out;
}

function unbase45(text) {
  const values = [...text].map(ch => B45.indexOf(ch));
  if (values.some(v => v < 0) || values.length % 3 === 1) return null;
  const out = [];
  for (let i = 0; i < values.length; i += 3) {
    if (i + 2 < values.length) {
      const n = values[i] + values[i + 1] * 45 + values[i + 2] * 2025;
      if (n > 0xffff) return null;
      out.push(n >> 8, n & 0xff);
    } else {
      const n = values[i] + values[i + 1] * 45;
      if (n > 0xff) return null;
      out.push(n);
    }
  }
  return new Uint8Array(out);
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

const ascii = text => new TextEncoder().encode(text);
const fromBase64 = text => Uint8Array.from(atob(text), c => c.charCodeAt(0));
const toBase64 = bytes => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const ECDSA = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGN = { name: 'ECDSA', hash: 'SHA-256' };

/** The fields of a credential (body ‖ issuer signature), read from its bytes rather than taken on trust. */
function readCredential(bytes) {
  if (bytes.length < 50) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const accountLength = (bytes[16] >> 4) + 1;
  const categoryLength = bytes[16] & 15;
  const bodyLength = 50 + accountLength + categoryLength;
  if (bytes.length < bodyLength + 64) return null;
  const notBefore = view.getUint32(10);
  return {
    keyId: view.getUint16(0),
    notBefore,
    notAfter: notBefore + view.getUint16(14) * 60,
    account: new TextDecoder().decode(bytes.subarray(17, 17 + accountLength)),
    phoneKey: bytes.subarray(17 + accountLength + categoryLength, bodyLength),
    body: bytes.subarray(0, bodyLength),
    issuerSignature: bytes.subarray(bodyLength, bodyLength + 64),
    length: bodyLength + 64,
  };
}

/**
 * Signs a code: the phone signature covers "TR1D" ‖ body ‖ issuer signature ‖ timestamp (3) ‖ counter (1).
 * WebCrypto's ECDSA signature is already IEEE P1363 r ‖ s (64 bytes), the format's own form: no DER conversion.
 */
async function signCode(privateKey, credential, nowSeconds, counter) {
  const info = readCredential(credential);
  const offset = nowSeconds - info.notBefore;
  const tail = new Uint8Array([(offset >> 16) & 255, (offset >> 8) & 255, offset & 255, counter & 255]);
  const signature = new Uint8Array(await crypto.subtle.sign(SIGN, privateKey, concat(ascii('TR1D'), credential, tail)));
  return 'TR1:' + base45(concat(credential, tail, signature));
}

// P-256 point decompression, for the wallet's own check of codes (WebCrypto imports only uncompressed points).
const P = 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

function modPow(base, exponent, modulus) {
  let result = 1n;
  base %= modulus;
  for (; exponent > 0n; exponent >>= 1n) {
    if (exponent & 1n) result = result * base % modulus;
    base = base * base % modulus;
  }
  return result;
}

function toBytes32(n) {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) { out[i] = Number(n & 255n); n >>= 8n; }
  return out;
}

async function importCompressed(point) {
  if (point.length !== 33 || (point[0] !== 2 && point[0] !== 3)) return null;
  const x = BigInt('0x' + [...point.subarray(1)].map(b => b.toString(16).padStart(2, '0')).join(''));
  if (x >= P) return null;
  const rhs = ((x ** 3n - 3n * x + B) % P + P) % P;
  let y = modPow(rhs, (P + 1n) / 4n, P);
  if (y * y % P !== rhs) return null;
  if (Number(y & 1n) !== (point[0] & 1)) y = P - y;
  try {
    return await crypto.subtle.importKey('raw', concat([4], point.subarray(1), toBytes32(y)), ECDSA, false, ['verify']);
  } catch {
    return null;
  }
}

/**
 * The wallet's own check of a code's text: format, validity window and phone signature, and the issuer signature
 * when the issuer's compressed public keys (by key id, base64) are given. Answers the verifier's reason names.
 */
async function verifyCode(text, options = {}) {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (typeof text !== 'string' || !text.startsWith('TR1:')) return 'malformed';
  const bytes = unbase45(text.slice(4));
  const credential = bytes && readCredential(bytes);
  if (!credential || bytes.length !== credential.length + 68) return 'malformed';
  if (options.issuerKeys) {
    const issuer = options.issuerKeys[credential.keyId] && await importCompressed(fromBase64(options.issuerKeys[credential.keyId]));
    if (!issuer) return 'unknown-key';
    if (!await crypto.subtle.verify(SIGN, issuer, credential.issuerSignature, concat(ascii('TR1C'), credential.body))) return 'bad-issuer-signature';
  }
  if (now >= credential.notAfter) return 'credential-expired';
  if (now < credential.notBefore) return 'credential-not-yet-valid';
  const phone = await importCompressed(credential.phoneKey);
  const tail = bytes.subarray(credential.length, credential.length + 4);
  if (!phone || !await crypto.subtle.verify(SIGN, phone, bytes.subarray(credential.length + 4), concat(ascii('TR1D'), bytes.subarray(0, credential.length), tail))) {
    return 'bad-signature';
  }
  const at = credential.notBefore + (tail[0] << 16 | tail[1] << 8 | tail[2]);
  if (now - at > 60) return 'stale';
  if (at - now > 30) return 'future';
  return 'ok';
}

// ---- the server
async function api(method, path, body) {
  const response = await fetch(API + path, {
    method,
    headers: { 'Content-Type': 'application/json', ...(state.token ? { Authorization: 'Bearer ' + state.token } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  const json = response.headers.get('content-type')?.includes('json') ? await response.json() : null;
  return { status: response.status, json };
}

async function ensureAccount() {
  state.key = await load('key');
  if (!state.key) {
    // The private half can sign but never leaves WebCrypto: not exportable, not readable by this script.
    state.key = await crypto.subtle.generateKey(ECDSA, false, ['sign', 'verify']);
    await save('key', state.key);
  }
  state.token = await load('token');
  state.account = await load('account');
  state.credential = await load('credential');
  if (!state.token && navigator.onLine) {
    const signup = await api('POST', '/signup');
    if (signup.status !== 200) throw new Error(signup.json?.detail ?? 'HTTP ' + signup.status);
    state.token = signup.json.token;
    state.account = signup.json.account;
    await save('token', state.token);
    await save('account', state.account);
  }
}

function credentialInfo() {
  return state.credential ? readCredential(fromBase64(state.credential)) : null;
}

function due() {
  const info = credentialInfo();
  return !info || info.notAfter * 1000 - Date.now() < RENEW_WHEN_LEFT_MS;
}

async function refreshCredential() {
  if (!state.token) return;
  const spki = await crypto.subtle.exportKey('spki', state.key.publicKey);
  const answer = await api('POST', '/credential', { phoneKey: toBase64(spki) });
  if (answer.status === 200) {
    state.credential = answer.json.credential;
    state.refusal = null;
    await save('credential', state.credential);
    state.nextCodeAt = 0;
  } else if (answer.status === 403) {
    // Refused: the code would be refused at every gate too, so the wallet stops showing it and says why.
    state.refusal = answer.json;
  } else {
    throw new Error(answer.json?.detail ?? 'HTTP ' + answer.status);
  }
  await loadHistory();
}

async function loadHistory() {
  const [journeys, charges] = await Promise.all([api('GET', '/journeys'), api('GET', '/charges')]);
  if (journeys.status === 200) await save('journeys', journeys.json);
  if (charges.status === 200) await save('charges', charges.json);
  await renderHistory();
}

async function pay() {
  const answer = await api('POST', '/pay');
  if (answer.status === 200) {
    setStatus(t('paid', money(answer.json.paid, state.refusal?.currency)), '');
    await refreshCredential();
    render();
  }
}

async function sync(force) {
  if (!navigator.onLine) return;
  try {
    if (!state.token) await ensureAccount();
    if (force || due() || state.refusal) await refreshCredential();
    state.failure = null;
  } catch (error) {
    state.failure = String(error.message ?? error);
  }
  render();
}

// ---- display
function t(name, ...args) {
  return TEXT[state.lang][name].replace(/\{(\d)\}/g, (_, i) => args[i]);
}

function time(seconds) {
  return new Date(seconds * 1000).toLocaleString(state.lang === 'zh' ? 'zh-CN' : 'en-GB', { dateStyle: 'short', timeStyle: 'short' });
}

function money(minor, currency) {
  return ((minor ?? 0) / 100).toFixed(2) + (currency ? ' ' + currency : '');
}

function setStatus(text, kind) {
  const status = document.getElementById('status');
  status.textContent = text;
  status.className = 'status ' + (kind ?? '');
}

function drawQr(text) {
  const canvas = document.getElementById('qr');
  const qr = qrcode(0, 'M');
  qr.addData(text, 'Alphanumeric');
  qr.make();
  const count = qr.getModuleCount();
  const quiet = 4;
  const scale = Math.max(3, Math.floor(Math.min(window.innerWidth - 32, 440) / (count + 2 * quiet)));
  canvas.width = canvas.height = (count + 2 * quiet) * scale;
  const context = canvas.getContext('2d');
  context.fillStyle = '#fff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.fillStyle = '#000';
  for (let row = 0; row < count; row++) {
    for (let col = 0; col < count; col++) {
      if (qr.isDark(row, col)) context.fillRect((col + quiet) * scale, (row + quiet) * scale, scale, scale);
    }
  }
  canvas.hidden = false;
  canvas.dataset.code = text;
}

async function tick() {
  const now = Math.floor(Date.now() / 1000);
  const info = credentialInfo();
  const qr = document.getElementById('qr');
  const refusal = document.getElementById('refusal');
  refusal.hidden = !state.refusal;
  if (state.refusal) {
    qr.hidden = true;
    const reasons = state.refusal.reasons ?? [];
    document.getElementById('refusal-detail').textContent =
      reasons.includes('debt') ? t('owes') : reasons.includes('manual') ? t('manual') : t('denyList');
    document.getElementById('refusal-detail').dataset.reasons = reasons.join(' ');
    document.getElementById('debt').textContent = state.refusal.debt > 0 ? t('debt', money(state.refusal.debt, state.refusal.currency)) : '';
    document.getElementById('pay').hidden = !(state.refusal.debt > 0);
    document.getElementById('countdown').textContent = '';
    setStatus(state.refusal.detail ?? '', 'bad');
    return;
  }
  if (!info) {
    qr.hidden = true;
    setStatus(state.failure ? t('failed', state.failure) : t('setup'), state.failure ? 'bad' : '');
    return;
  }
  document.getElementById('valid-until').textContent = t('validUntil', time(info.notAfter));
  if (now >= info.notAfter) {
    qr.hidden = true;
    document.getElementById('countdown').textContent = '';
    setStatus(t('expired'), 'bad');
    return;
  }
  if (now < info.notBefore) {
    qr.hidden = true;
    setStatus(t('notYet', time(info.notBefore)), 'bad');
    return;
  }
  if (now >= state.nextCodeAt) {
    state.counter = (state.counter + 1) & 255;
    state.code = await signCode(state.key.privateKey, fromBase64(state.credential), now, state.counter);
    drawQr(state.code);
    state.nextCodeAt = now + CODE_SECONDS;
  }
  document.getElementById('countdown').textContent = t('nextCode', state.nextCodeAt - now);
  if (navigator.onLine) {
    setStatus(state.failure ? t('failed', state.failure) : t('ready'), state.failure ? 'offline' : '');
  } else {
    setStatus(t('offline', time(info.notAfter)), 'offline');
  }
}

async function renderHistory() {
  const journeys = await load('journeys');
  const charges = await load('charges');
  const list = document.getElementById('journeys');
  list.replaceChildren(...(journeys?.journeys ?? []).map(j => {
    const item = document.createElement('li');
    const legs = j.legs.map(l => `${l.mode} ${l.from ?? '?'} → ${l.to ?? '?'}`).join(', ');
    const marks = [j.incomplete ? t('incomplete') : null, j.capped ? t('capped') : null].filter(Boolean).join(', ');
    item.textContent = `${j.day} ${legs}: ${money(j.charged, j.currency)}${marks ? ' (' + marks + ')' : ''}`;
    if (j.incomplete) item.className = 'incomplete';
    return item;
  }));
  if (list.children.length === 0) list.textContent = t('noJourneys');
  const chargeList = document.getElementById('charges');
  chargeList.replaceChildren(...(charges?.charges ?? []).map(c => {
    const item = document.createElement('li');
    item.textContent = `${c.day}: ${money(c.amount, c.currency)} ${c.status}${c.inDebt ? ' (' + t('inDebt') + ')' : ''}`;
    return item;
  }));
  if (chargeList.children.length === 0) chargeList.textContent = t('noCharges');
  document.getElementById('balance').textContent = charges?.debt > 0 ? t('debt', money(charges.debt, charges.currency)) : t('noDebt');
}

function render() {
  document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
  document.querySelectorAll('[data-text]').forEach(e => { e.textContent = t(e.dataset.text); });
  document.getElementById('language').textContent = t('other');
  document.getElementById('account').textContent = state.account ? t('account', state.account) : '';
  tick();
  renderHistory();
}

async function start() {
  state.lang = (await load('lang')) ?? (navigator.language?.toLowerCase().startsWith('zh') ? 'zh' : 'en');
  render();
  document.getElementById('language').addEventListener('click', async () => {
    state.lang = state.lang === 'zh' ? 'en' : 'zh';
    await save('lang', state.lang);
    render();
  });
  document.getElementById('refresh').addEventListener('click', () => sync(true));
  document.getElementById('pay').addEventListener('click', pay);
  window.addEventListener('online', () => sync(false));
  window.addEventListener('offline', () => tick());
  try {
    await ensureAccount();
  } catch (error) {
    state.failure = String(error.message ?? error);
  }
  await sync(false);
  render();
  setInterval(tick, 1000);
  setInterval(() => sync(false), CHECK_EVERY_MS);
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('sw.js', { scope: './' }).catch(() => {});
  }
  document.body.dataset.ready = 'true';
}

// For tests and for anyone checking a code by hand.
window.transitWallet = { verifyCode, signCode, refresh: () => sync(true), state };
start();
