// The demo's gate scanner: camera frames → jsQR → the chosen gate agent (POST /demo/gates/{id}/scan) → its answer,
// then the tap as clearing received it. The server checks everything again; this page only spares it junk.
'use strict';

(() => {
  // A ride code is "TR", a version, a colon and Base45 (docs/ride-code.md); other QR codes are not sent.
  const codeShape = /^TR[0-9]+:[0-9A-Z $%*+\-./:]+$/;
  const maxCodeLength = 512;
  // A code stays in front of the camera for many frames: it is shown again only after it was out of view this long.
  const goneAfterMillis = 800;
  const frameMillis = 120;
  const clearingPollMillis = 500;
  const clearingPollFor = 30000;

  const $ = id => document.getElementById(id);
  const gateSelect = $('gate');
  const video = $('camera');
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  let lastCode = null;
  let lastSeen = 0;
  let busy = false;

  function say(element, text) {
    element.textContent = text;
  }

  function gateLabel(gate) {
    if (gate.mode === 'metro-entry') return `${gate.station} · entry (${gate.id})`;
    if (gate.mode === 'metro-exit') return `${gate.station} · exit (${gate.id})`;
    return `bus ${gate.route} (${gate.id})`;
  }

  async function loadGates() {
    const response = await fetch('../gates');
    if (!response.ok) throw new Error(`the demo's gates: HTTP ${response.status}`);
    const gates = await response.json();
    gateSelect.replaceChildren(...gates.map(gate => {
      const option = document.createElement('option');
      option.value = gate.id;
      option.textContent = gateLabel(gate);
      return option;
    }));
    const wanted = new URLSearchParams(location.search).get('gate');
    if (wanted && gates.some(g => g.id === wanted)) gateSelect.value = wanted;
    return gates.length;
  }

  async function startCamera() {
    if (!window.isSecureContext || !navigator.mediaDevices) {
      throw new Error('the browser gives the camera only to secure pages: open this page at http://127.0.0.1 or over https (transit demo --lan)');
    }
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 } }, audio: false });
    video.srcObject = stream;
    await video.play();
  }

  function readFrame() {
    if (video.readyState < video.HAVE_CURRENT_DATA || video.videoWidth === 0) return null;
    // Scaled down to at most 800 pixels across: plenty for a phone's code held up close, and quick to search.
    const scale = Math.min(1, 800 / video.videoWidth);
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    const image = context.getImageData(0, 0, canvas.width, canvas.height);
    const found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: 'attemptBoth' });
    return found ? found.data : null;
  }

  function showResult(answer) {
    const result = $('result');
    result.hidden = false;
    result.className = answer.accepted ? 'accepted' : 'refused';
    result.dataset.accepted = String(answer.accepted);
    result.dataset.reason = answer.reason;
    say($('decision'), answer.accepted ? 'Accepted: gate opens' : `Refused: ${answer.reason}`);
    const at = new Date(answer.at).toLocaleTimeString();
    say($('detail'), `${answer.device} · ${at} · ${answer.account ?? 'unknown account'} · ${answer.latencyMs.toFixed(1)} ms`);
  }

  function showProblem(text) {
    const result = $('result');
    result.hidden = false;
    result.className = 'refused';
    result.dataset.accepted = 'false';
    result.dataset.reason = 'not-sent';
    say($('decision'), 'Not shown to the gate');
    say($('detail'), text);
  }

  function addTap(answer) {
    const item = document.createElement('li');
    item.className = answer.accepted ? 'accepted' : 'refused';
    item.dataset.seq = String(answer.seq);
    item.dataset.accepted = String(answer.accepted);
    item.dataset.reason = answer.reason;
    const line = document.createElement('span');
    line.textContent = `${new Date(answer.at).toLocaleTimeString()} ${answer.device} tap ${answer.seq}: ${answer.accepted ? 'accepted' : 'refused, ' + answer.reason}`;
    const clearing = document.createElement('span');
    clearing.className = 'clearing';
    clearing.textContent = answer.seq > 0 ? 'uploading to clearing …' : 'not journaled';
    item.append(line, clearing);
    $('taps').prepend(item);
    if (answer.seq > 0) followTap(answer, item, clearing);
  }

  // Polls until clearing has the tap the gate uploaded: the same tap, now in the back office.
  async function followTap(answer, item, clearing) {
    const until = Date.now() + clearingPollFor;
    while (Date.now() < until) {
      const response = await fetch(`../gates/${encodeURIComponent(answer.device)}/taps/${answer.seq}`);
      if (response.ok) {
        const tap = await response.json();
        item.dataset.clearing = tap.clearingReason;
        const where = tap.station ?? tap.stop ?? '';
        clearing.textContent = `in clearing: service day ${tap.serviceDay}, ${where}, ${tap.accepted ? 'accepted' : 'refused'} (${tap.clearingReason}), account ${tap.account ?? '–'}`;
        return;
      }
      await new Promise(resolve => setTimeout(resolve, clearingPollMillis));
    }
    clearing.textContent = 'not in clearing after 30 s: see the gate\'s agent.log';
  }

  async function show(code) {
    busy = true;
    try {
      const response = await fetch(`../gates/${encodeURIComponent(gateSelect.value)}/scan`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ code }),
      });
      const body = await response.json();
      if (!response.ok) {
        showProblem(body.detail ?? `HTTP ${response.status}`);
        return;
      }
      showResult(body);
      addTap(body);
    } catch (error) {
      showProblem(String(error.message ?? error));
    } finally {
      busy = false;
    }
  }

  function tick() {
    const text = readFrame();
    const now = Date.now();
    if (text !== null) {
      const again = text === lastCode && now - lastSeen < goneAfterMillis;
      lastSeen = now;
      if (!again && !busy) {
        lastCode = text;
        if (text.length > maxCodeLength || !codeShape.test(text)) {
          showProblem(`this QR code is not a ride code: ${text.slice(0, 40)}`);
        } else if (gateSelect.value) {
          show(text);
        }
      }
    }
    setTimeout(tick, frameMillis);
  }

  async function main() {
    try {
      const count = await loadGates();
      if (count === 0) say($('camera-status'), 'The demo has no gates running yet: reload once it prints "Running".');
      await startCamera();
      say($('camera-status'), 'Camera on: hold the ride code in front of it.');
      document.body.dataset.ready = 'true';
      tick();
    } catch (error) {
      say($('camera-status'), `No camera: ${error.message ?? error}`);
      document.body.dataset.ready = 'false';
    }
  }

  main();
})();
