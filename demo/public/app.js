// Browser side of the demo: one nextrush-v2/client per page carries the room chat and the dashboard's stats.
// The client reconnects by itself and replays what the page missed while it was away.
import { connect as connectClient } from '/client.js';

const ROOM_RE = /[^\p{L}\p{N}_-]+/gu;
const DEFAULT_ROOMS = ['general', 'random'];
// Exponential backoff with jitter: many tabs reconnecting after a restart do not arrive together.
const BACKOFF = { initialMs: 500, maxMs: 15000, factor: 2, jitter: 0.5 };
const CHART_POINTS = 60;
const MAX_LOG_ITEMS = 200;

const $ = id => document.getElementById(id);
const els = {
  status: $('status'),
  statusText: $('status-text'),
  roomTitle: $('room-title'),
  presence: $('room-presence'),
  joinForm: $('join-form'),
  roomInput: $('room-input'),
  nameInput: $('name-input'),
  roomList: $('room-list'),
  roomChips: $('room-chips'),
  log: $('log'),
  composer: $('composer'),
  messageInput: $('message-input'),
  sendButton: $('send-button'),
  connections: $('stat-connections'),
  rooms: $('stat-rooms'),
  rateIn: $('stat-in'),
  rateOut: $('stat-out'),
  lineIn: $('line-in'),
  lineOut: $('line-out'),
  peak: $('chart-peak'),
};

/** Keeps only what the server accepts as a room name, so the URL and the title always agree. */
function cleanRoom(value) {
  const room = String(value ?? '')
    .trim()
    .replace(ROOM_RE, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 32);
  return room && !room.startsWith('__') ? room : 'general';
}

function cleanName(value) {
  const name = String(value ?? '')
    .trim()
    .replace(/\s+/g, ' ')
    .slice(0, 24);
  return name || randomName();
}

function randomName() {
  const bytes = new Uint8Array(2);
  crypto.getRandomValues(bytes);
  return `guest-${Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('')}`;
}

const params = new URL(location.href).searchParams;
const state = {
  room: cleanRoom(params.get('room')),
  // sessionStorage is per tab, so two tabs of one browser chat as two different people.
  name: cleanName(params.get('name') ?? sessionStorage.getItem('nextrush-demo-name')),
  me: null,
  client: null,
  countdownTimer: 0,
  history: [],
  roomList: [],
};
sessionStorage.setItem('nextrush-demo-name', state.name);

function setStatus(kind, text) {
  els.status.dataset.state = kind;
  els.statusText.textContent = text;
  els.sendButton.disabled = kind !== 'open';
}

function socketUrl() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const name = encodeURIComponent(state.name);
  return `${scheme}://${location.host}/chat/${encodeURIComponent(state.room)}?name=${name}`;
}

function connect() {
  clearInterval(state.countdownTimer);
  setStatus('connecting', 'Connecting…');
  const client = connectClient(socketUrl(), { backoff: BACKOFF });
  state.client = client;
  let lost = false;
  client.onState(s => {
    if (state.client !== client) return;
    clearInterval(state.countdownTimer);
    if (s === 'open') {
      setStatus('open', 'Connected');
      lost = false;
    } else if (s === 'reconnecting') {
      // Kept for support and tests: 1001 means the server shut down gracefully, 1006 that it vanished.
      els.status.dataset.closeCode = String(client.lastClose?.code ?? '');
      // Say it once per outage, not once per failed retry.
      if (!lost) addEvent('Connection lost. Reconnecting…');
      lost = true;
      const tick = () => {
        const seconds = Math.max(1, Math.ceil((client.retryIn() ?? 0) / 1000));
        setStatus('reconnecting', `Reconnecting in ${seconds}s`);
      };
      tick();
      state.countdownTimer = setInterval(tick, 250);
    }
  });
  client.onMessage(data => {
    if (state.client !== client || typeof data !== 'string') return;
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return; // not ours: the protocol here is JSON only
    }
    handle(msg);
  });
  client.onRoom(event => {
    if (state.client !== client || event.room !== state.room) return;
    if (event.type === 'recovered' && event.replayed > 0) {
      const n = event.replayed;
      addEvent(`Caught up: ${n} message${n === 1 ? '' : 's'} from while you were away.`);
    } else if (event.type === 'unrecoverable') {
      addEvent('Some messages from while you were away could not be recovered.');
    }
  });
}

function switchRoom(room, name) {
  state.room = cleanRoom(room);
  state.name = cleanName(name ?? state.name);
  sessionStorage.setItem('nextrush-demo-name', state.name);
  const url = new URL(location.href);
  url.searchParams.set('room', state.room);
  history.replaceState(null, '', url);
  renderRoom();
  els.log.replaceChildren();
  const old = state.client;
  state.client = null;
  if (old) old.close(1000, 'switching room');
  connect();
}

function handle(msg) {
  switch (msg.type) {
    case 'welcome':
      state.me = msg.you ?? null;
      // Browsers do not tell a page whether a WebSocket runs over HTTP/2 (RFC 8441); the server does.
      if (msg.transport) {
        els.status.dataset.transport = msg.transport;
        els.status.title = `WebSocket over ${msg.transport}`;
      }
      if (msg.room) state.room = msg.room;
      renderRoom();
      setPresence(msg.stats?.activeUsers);
      addEvent(msg.message);
      if (msg.transport) addEvent(`Your socket runs over ${msg.transport}.`);
      if (Array.isArray(msg.dashboard)) {
        state.history = msg.dashboard.slice(-CHART_POINTS);
        const last = state.history[state.history.length - 1];
        if (last) renderStats(last, false);
      }
      break;
    case 'user-joined':
    case 'user-left':
      setPresence(msg.activeUsers);
      addEvent(msg.message);
      break;
    case 'chat-message':
      addMessage(msg);
      break;
    case 'stats':
      renderStats(msg, true);
      break;
    default:
      break;
  }
}

function setPresence(count) {
  if (typeof count !== 'number') return;
  els.presence.textContent = count === 1 ? 'Just you here' : `${count} people here`;
}

function renderRoom() {
  els.roomTitle.textContent = state.room;
  els.roomInput.value = state.room;
  els.nameInput.value = state.name;
  document.title = `#${state.room} · NextRush live chat`;
  renderRoomChips();
}

function appendLogItem(li) {
  const nearBottom = els.log.scrollHeight - els.log.scrollTop - els.log.clientHeight < 40;
  els.log.append(li);
  while (els.log.children.length > MAX_LOG_ITEMS) els.log.firstElementChild.remove();
  if (nearBottom) els.log.scrollTop = els.log.scrollHeight;
}

function addEvent(text) {
  if (!text) return;
  const li = document.createElement('li');
  li.className = 'event';
  li.textContent = text;
  appendLogItem(li);
}

function addMessage(msg) {
  const li = document.createElement('li');
  const mine = state.me && msg.from && msg.from.id === state.me.id;
  li.className = mine ? 'msg mine' : 'msg';
  const meta = document.createElement('div');
  meta.className = 'meta';
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = mine ? 'You' : (msg.from?.name ?? 'someone');
  const time = document.createElement('time');
  time.dateTime = msg.timestamp;
  time.textContent = new Date(msg.timestamp).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  meta.append(who, time);
  const body = document.createElement('div');
  body.className = 'text';
  // textContent, never innerHTML: message text is whatever another user typed.
  body.textContent = String(msg.content ?? '');
  li.append(meta, body);
  appendLogItem(li);
}

function formatRate(value) {
  if (!Number.isFinite(value)) return '–';
  return value < 10 ? value.toFixed(1) : String(Math.round(value));
}

function renderStats(s, record) {
  els.connections.textContent = String(s.connections);
  els.rooms.textContent = String(s.rooms);
  els.rateIn.textContent = formatRate(s.messagesInPerSec);
  els.rateOut.textContent = formatRate(s.messagesOutPerSec);
  if (record) {
    state.history.push({ messagesInPerSec: s.messagesInPerSec, messagesOutPerSec: s.messagesOutPerSec });
    if (state.history.length > CHART_POINTS) state.history.splice(0, state.history.length - CHART_POINTS);
  }
  if (Array.isArray(s.roomList)) {
    state.roomList = s.roomList;
    renderRoomChips();
  }
  renderChart();
}

function renderChart() {
  const points = state.history;
  const peak = Math.max(1, ...points.map(p => Math.max(p.messagesInPerSec, p.messagesOutPerSec)));
  const step = 300 / (CHART_POINTS - 1);
  const offset = CHART_POINTS - points.length;
  const line = key =>
    points
      .map((p, i) => `${((offset + i) * step).toFixed(1)},${(96 - (p[key] / peak) * 90).toFixed(1)}`)
      .join(' ');
  els.lineIn.setAttribute('points', line('messagesInPerSec'));
  els.lineOut.setAttribute('points', line('messagesOutPerSec'));
  els.peak.textContent = formatRate(peak);
}

function renderRoomChips() {
  const counts = new Map(state.roomList.map(r => [r.name, r.users]));
  const names = [...new Set([...DEFAULT_ROOMS, ...counts.keys(), state.room])].slice(0, 12);
  els.roomChips.replaceChildren(
    ...names.map(name => {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'chip';
      button.textContent = `#${name}`;
      if (counts.has(name)) {
        const count = document.createElement('span');
        count.className = 'count';
        count.textContent = String(counts.get(name));
        count.setAttribute('aria-label', `${counts.get(name)} online`);
        button.append(count);
      }
      if (name === state.room) button.setAttribute('aria-current', 'true');
      button.addEventListener('click', () => {
        if (name !== state.room) switchRoom(name);
      });
      li.append(button);
      return li;
    })
  );
  els.roomList.replaceChildren(
    ...names.map(name => {
      const option = document.createElement('option');
      option.value = name;
      return option;
    })
  );
}

els.joinForm.addEventListener('submit', event => {
  event.preventDefault();
  switchRoom(els.roomInput.value, els.nameInput.value);
  els.messageInput.focus();
});

els.composer.addEventListener('submit', event => {
  event.preventDefault();
  const text = els.messageInput.value.trim();
  if (!text || !state.client || !state.client.send(text)) return;
  els.messageInput.value = '';
});

renderRoom();
renderChart();
connect();
