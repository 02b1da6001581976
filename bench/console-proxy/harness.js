/* global window, document, location */
// The page of the console-proxy benchmark's frame-rate test (served by bench/console-proxy.mjs on 127.0.0.1, never
// part of the product): noVNC's RFB, unmodified, from node_modules/@novnc/novnc, connected to ?url= (a proxy or QEMU's
// own WebSocket listener), view-only, not scaled. Counted:
//  - frames: Display.flip() calls that copy a damaged region from noVNC's back buffer to the visible canvas, i.e. one
//    per FramebufferUpdate whose rectangles changed pixels, when it is drawn (a flip queued behind decoding counts when
//    it runs), with the area drawn;
//  - updates: FramebufferUpdate messages fully decoded (RFB._framebufferUpdate() returning true);
//  - bytes: WebSocket payload bytes received.
import RFB from '/novnc/core/rfb.js';

const url = new URLSearchParams(location.search).get('url');
const c = { frames: 0, updates: 0, bytes: 0, area: 0, t0: performance.now() };
const state = { status: 'connecting', reason: '', fbWidth: 0, fbHeight: 0 };

const rfb = new RFB(document.getElementById('screen'), url, { wsProtocols: ['binary'], shared: true });
rfb.viewOnly = true;
rfb.scaleViewport = false;
rfb.resizeSession = false;

const display = rfb._display;
const flip = display.flip;
display.flip = function (fromQueue) {
  if (this._renderQ.length === 0 || fromQueue) {
    const b = this._damageBounds;
    const w = Math.min(b.right, this._fbWidth) - b.left;
    const h = Math.min(b.bottom, this._fbHeight) - b.top;
    if (w > 0 && h > 0) {
      c.frames++;
      c.area += w * h;
    }
  }
  return flip.call(this, fromQueue);
};
const fbu = rfb._framebufferUpdate;
rfb._framebufferUpdate = function () {
  const done = fbu.call(this);
  if (done) c.updates++;
  return done;
};

rfb.addEventListener('connect', () => {
  state.status = 'connected';
  rfb._sock._websocket.addEventListener('message', (e) => (c.bytes += e.data.byteLength ?? e.data.size ?? 0));
});
rfb.addEventListener('disconnect', (e) => {
  state.status = 'disconnected';
  state.reason = e.detail.clean ? 'clean' : 'unclean';
});

window.__bench = {
  state: () => ({ ...state, fbWidth: rfb._fbWidth, fbHeight: rfb._fbHeight, canvas: [display._target.width, display._target.height], protocol: rfb._sock._websocket?.protocol ?? '', extensions: rfb._sock._websocket?.extensions ?? '' }),
  reset: () => Object.assign(c, { frames: 0, updates: 0, bytes: 0, area: 0, t0: performance.now() }),
  read: () => ({ ...c, ms: performance.now() - c.t0 }),
  /** Share of the canvas that is not black: the console's text is there. */
  inked: () => {
    const ctx = display._target.getContext('2d');
    const d = ctx.getImageData(0, 0, display._target.width, display._target.height).data;
    let lit = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 96) lit++;
    return lit / (d.length / 4);
  },
  disconnect: () => rfb.disconnect(),
};
