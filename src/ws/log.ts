// Structured log lines (one JSON object per line on stderr) for the WebSocket plugin.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

/** Debug and info lines only when `debug` is on; warnings and errors always. */
export function createLogger(debug: boolean): Logger {
  return (level, msg, fields) => {
    if (!debug && (level === 'debug' || level === 'info')) return;
    const line = JSON.stringify({
      time: new Date().toISOString(),
      level,
      source: 'nextrush:ws',
      msg,
      ...fields,
    });
    process.stderr.write(line + '\n');
  };
}
