// Path matching shared by HTTP routes and WebSocket paths: static segments, `:param` and a trailing `*`.
import { Errors } from './errors.js';

/** A successful match: the stored value and the URL-decoded parameters (`*` holds the rest of the path). */
export interface RouteMatch<T> {
  /** The value registered for the matching route. */
  value: T;
  /** Parameters captured from the path (`:name`, and `*` for a trailing wildcard), URL-decoded. */
  params: Record<string, string>;
}

interface Terminal<T> {
  value: T;
  /** Parameter names in path order; `*` last for a wildcard route. */
  names: string[];
  pattern: string;
}

class Node<T> {
  statics: Map<string, Node<T>> | undefined;
  param: Node<T> | undefined;
  terminal: Terminal<T> | undefined;
  wildcard: Terminal<T> | undefined;
}

function splitPath(path: string): string[] {
  return path === '/' || path === '' ? [] : path.slice(1).split('/');
}

function decode(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw Errors.malformedPath();
  }
}

/**
 * Maps path patterns to values of type T. Fully static patterns are found with one Map lookup; the rest
 * walk a segment trie where a static segment beats `:param`, which beats `*`. `*` matches zero or more
 * trailing segments, so `/*` matches `/` and everything below it.
 * `find` throws an HttpError 400 (`ERR_MALFORMED_PATH`) when a captured parameter has a malformed %-escape.
 */
export class Router<T> {
  private readonly statics = new Map<string, Terminal<T>>();
  private readonly root = new Node<T>();
  private readonly patterns = new Map<string, Terminal<T>>();

  /** Stores `value` under `pattern`, replacing any earlier value of the same pattern. */
  add(pattern: string, value: T): this {
    if (!pattern.startsWith('/')) throw new TypeError(`Route pattern must start with "/": ${pattern}`);
    const existing = this.patterns.get(pattern);
    if (existing) {
      existing.value = value;
      return this;
    }
    const segments = splitPath(pattern);
    const names: string[] = [];
    let node = this.root;
    let wildcard = false;
    segments.forEach((seg, i) => {
      if (seg === '*') {
        if (i !== segments.length - 1) throw new TypeError(`"*" must be the last segment: ${pattern}`);
        wildcard = true;
      } else if (seg.startsWith(':')) {
        const name = seg.slice(1);
        if (!name || names.includes(name)) throw new TypeError(`Bad or repeated parameter in ${pattern}`);
        names.push(name);
        node = node.param ??= new Node<T>();
      } else {
        node.statics ??= new Map();
        let child = node.statics.get(seg);
        if (!child) node.statics.set(seg, (child = new Node<T>()));
        node = child;
      }
    });
    const terminal: Terminal<T> = { value, names, pattern };
    if (wildcard) {
      names.push('*');
      node.wildcard = terminal;
    } else {
      node.terminal = terminal;
      if (names.length === 0) this.statics.set(pattern, terminal);
    }
    this.patterns.set(pattern, terminal);
    return this;
  }

  /** The value stored under exactly this pattern (not a match), if any. */
  get(pattern: string): T | undefined {
    return this.patterns.get(pattern)?.value;
  }

  /** Matches a request path (without query string). */
  find(path: string): RouteMatch<T> | null {
    const exact = this.statics.get(path);
    if (exact) return { value: exact.value, params: {} };
    const captured: string[] = [];
    const terminal = walk(this.root, splitPath(path), 0, captured);
    if (!terminal) return null;
    const params: Record<string, string> = {};
    for (let i = 0; i < terminal.names.length; i++) params[terminal.names[i]] = decode(captured[i]);
    return { value: terminal.value, params };
  }

  /** Every stored pattern, in insertion order. */
  routes(): string[] {
    return [...this.patterns.keys()];
  }
}

function walk<T>(node: Node<T>, segs: string[], i: number, captured: string[]): Terminal<T> | undefined {
  if (i === segs.length) {
    if (node.terminal) return node.terminal;
    if (node.wildcard) {
      captured.push('');
      return node.wildcard;
    }
    return undefined;
  }
  const seg = segs[i];
  const child = node.statics?.get(seg);
  if (child) {
    const found = walk(child, segs, i + 1, captured);
    if (found) return found;
  }
  if (node.param && seg !== '') {
    captured.push(seg);
    const found = walk(node.param, segs, i + 1, captured);
    if (found) return found;
    captured.pop();
  }
  if (node.wildcard) {
    captured.push(segs.slice(i).join('/'));
    return node.wildcard;
  }
  return undefined;
}

/** Compiles one pattern into a matcher: the decoded params, or null when the path does not match. */
export function compilePath(pattern: string): (path: string) => Record<string, string> | null {
  const router = new Router<true>().add(pattern, true);
  return path => router.find(path)?.params ?? null;
}
