/* ap-avs sandbox support (ours, not vendored): console output and error reports.
 *
 * Loaded by bootstrap.js on the first console call, error or unknown require, so evaluations
 * that need none of them do not parse it. It uses the intrinsics bootstrap.js captured before
 * the user's code ran (`shared`), not the globals the code may have replaced.
 */
'use strict';
var apply = shared.apply, stringify = shared.stringify, StringC = shared.String;
var MAX_LINE = 2000;
var PARSE = [/^\s*at <input>:(\d+)\s*$/, /^\s*at eval \(native\)\s*$/, /^\s*at \$apRun \(/];

function cut(text) {
  return text.length > MAX_LINE ? apply(shared.slice, text, [0, MAX_LINE]) + '\u2026' : text;
}

function describe(value) {
  var type = typeof value;
  if (type === 'string') return value;
  if (type === 'bigint') return StringC(value) + 'n';
  if (type === 'function') return '[Function: ' + (value.name || '(anonymous)') + ']';
  try {
    if (type === 'undefined' || type === 'symbol' || value instanceof shared.Error) {
      return StringC(value);
    }
    var text = stringify(value, shared.replacer);
    return text === undefined ? StringC(value) : text;
  } catch (e) {
    return '[unprintable]';
  }
}

function log() {
  var logs = shared.logs;
  if (logs.length >= shared.maxLines) {
    shared.dropped++;
    return;
  }
  var line = '';
  for (var i = 0; i < arguments.length && line.length <= MAX_LINE; i++) {
    line += (i ? ' ' : '') + describe(arguments[i]);
  }
  logs[logs.length] = cut(line);
}

function logsJson() {
  var logs = shared.logs, max = shared.maxLines;
  if (shared.dropped === 0 || max === 0) return stringify(logs);
  var lines = apply(shared.arraySlice, logs, [0, max - 1]);
  lines[lines.length] = '\u2026 ' + (shared.dropped + 1) + ' more log lines dropped';
  return stringify(lines);
}

// A SyntaxError from parsing the evaluated code itself (not one thrown by code it runs, such as
// JSON.parse or a nested eval) has this stack: the position, the eval call, `$apRun`.
function parseLine(error) {
  if (!(error instanceof shared.SyntaxError)) return null;
  var frames = apply(shared.split, StringC(error.stack), ['\n']), line = null;
  for (var i = 0; i < PARSE.length; i++) {
    var match = apply(shared.exec, PARSE[i], [frames[i] || '']);
    if (!match) return null;
    if (i === 0) line = parseInt(match[1], 10);
  }
  return line;
}

function fail(error, parsing, prefix) {
  var kind = 'runtime', name = '', message = '', line = null;
  try {
    if (error instanceof shared.Error) {
      name = StringC(error.name);
      message = StringC(error.message);
      line = parsing ? parseLine(error) : null;
      if (line !== null) kind = 'syntax';
      else if (error instanceof shared.InternalError && message === 'out of memory') kind = 'memory';
      else if (error instanceof shared.InternalError && message === 'stack overflow') kind = 'stack';
    } else {
      message = describe(error);
    }
    shared.error = stringify({ kind: kind, name: name, message: (prefix || '') + cut(message), line: line });
  } catch (e) {
    shared.error = '{"kind":"' + kind + '","name":"","message":"","line":null}';
  }
}

function missing(name) {
  var error = new shared.Error("Cannot find module '" + StringC(name) + "'");
  error.code = 'MODULE_NOT_FOUND';
  throw error;
}

module.exports = { log: log, logsJson: logsJson, fail: fail, missing: missing };
