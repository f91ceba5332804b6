/* ap-avs sandbox bootstrap (ours, not vendored).
 *
 * ap_avs/_sandbox/worker.py evaluates this in every fresh QuickJS context and calls the function
 * it yields with the sources of the lazily loaded modules: lodash, dayjs, uuid (vendored), and
 * our crypto.js and support.js, each wrapped as `(function (module, exports, shared) {...})`.
 * That installs `console`, `require` and the lazy globals `_`, `dayjs`, `uuid`, `crypto`, and
 * returns the control function the worker drives:
 *
 *   ctl("run", code, variablesJson, maxLogLines, maxOutputChars, seedHex) -> state
 *   ctl("state") -> 0 running, 1 finished with a value, 2 failed
 *   ctl("value") -> the value as JSON text       ctl("error") -> {kind, name, message, line}
 *   ctl("logs")  -> the console lines as JSON    ctl("preload") loads the libraries
 *
 * Nothing here calls back into Python: the context has no host hook at all.
 *
 * QuickJS parses about 40 us per KB of code (comments and string literals are nearly free), and
 * this runs for every evaluation, so only what every evaluation needs is here; console output,
 * error reports and the libraries are in modules parsed on first use.
 *
 * JSON rules at the boundary: JSON.stringify semantics plus BigInt -> decimal string,
 * Map -> [[key, value], ...], Set and typed arrays -> arrays. So a Date becomes its ISO string
 * (toJSON; an invalid Date -> null); undefined, functions and symbols are dropped from objects
 * and become null in arrays and at the top level; NaN and +-Infinity become null; a cycle fails.
 */
(function (lodash, dayjs, uuid, crypto, support) {
  'use strict';
  var G = globalThis;
  delete G.__date_clock;
  var sources = { lodash: lodash, dayjs: dayjs, uuid: uuid, crypto: crypto, support: support };
  var indirectEval = G.eval, apply = Reflect.apply, defineProperty = Object.defineProperty;
  var stringify = JSON.stringify, bigToString = BigInt.prototype.toString;
  var arrayFrom = Array.from, isView = ArrayBuffer.isView;
  var MapC = Map, SetC = Set, DataViewC = DataView;
  var PromiseC = Promise, promiseResolve = Promise.resolve, promiseThen = Promise.prototype.then;
  var modules = {};
  var state = 0, value = 'null', maxOutput = 0;
  var shared = {
    seed: '', logs: [], dropped: 0, maxLines: 0, error: '{}', replacer: replacer,
    stringify: stringify, apply: apply, String: String, Error: Error,
    SyntaxError: SyntaxError, InternalError: G.InternalError,
    slice: String.prototype.slice, split: String.prototype.split, exec: RegExp.prototype.exec,
    arraySlice: Array.prototype.slice,
  };

  function replacer(key, value) {
    if (typeof value === 'bigint') return apply(bigToString, value, []);
    if (typeof value === 'object' && value !== null && (value instanceof MapC ||
        value instanceof SetC || (isView(value) && !(value instanceof DataViewC)))) {
      return arrayFrom(value);
    }
    return value;
  }

  // Like CommonJS, but a module is undefined while it loads: lodash reads `root._` (our lazy
  // global below) to keep it for noConflict, which must not load lodash again.
  function load(name) {
    var module = modules[name];
    if (!module) {
      modules[name] = module = { exports: {}, loading: true };
      try {
        apply(indirectEval(sources[name]), G, [module, module.exports, shared]);
      } catch (e) {
        delete modules[name];
        throw e;
      }
      module.loading = false;
    }
    return module.loading ? undefined : module.exports;
  }

  function define(name, value, enumerable) {
    defineProperty(G, name, { value: value, writable: true, enumerable: enumerable, configurable: true });
  }

  function lazy(name, module) {
    defineProperty(G, name, {
      configurable: true,
      get: function () {
        var value = load(module);
        if (value !== undefined) define(name, value, false);
        return value;
      },
      set: function (value) { define(name, value, true); },
    });
  }

  function log() { apply(load('support').log, undefined, arguments); }

  function fail(error, parsing, prefix) {
    state = 2;
    load('support').fail(error, parsing, prefix);
  }

  function require(name) {
    if (name === 'lodash' || name === 'dayjs' || name === 'uuid') return load(name);
    return load('support').missing(name);
  }

  define('console', { log: log, info: log, warn: log, error: log, debug: log, trace: log }, false);
  define('require', require, false);
  lazy('_', 'lodash');
  lazy('dayjs', 'dayjs');
  lazy('uuid', 'uuid');
  lazy('crypto', 'crypto');

  function succeed(result) {
    var json;
    try {
      json = stringify(result, replacer);
    } catch (e) {
      fail(e, false, 'the result cannot be converted to JSON: ');
      return;
    }
    if (json === undefined) json = 'null';
    if (json.length > maxOutput) {
      state = 2;
      shared.error = '{"kind":"output","name":"","message":"","line":null}';
      return;
    }
    value = json;
    state = 1;
  }

  // The name marks this frame for support.js: a SyntaxError whose stack goes straight from the
  // eval call to here is a syntax error in the user's code (see parseLine there).
  function $apRun(code, variablesJson, maxLogLines, maxOutputChars, seed) {
    shared.maxLines = maxLogLines;
    maxOutput = maxOutputChars;
    shared.seed = seed;
    var variables = JSON.parse(variablesJson), names = Object.keys(variables);
    for (var i = 0; i < names.length; i++) define(names[i], variables[names[i]], true);
    var result;
    try {
      result = indirectEval(code);
    } catch (e) {
      fail(e, true);
      return state;
    }
    try {
      if (result !== null && (typeof result === 'object' || typeof result === 'function') &&
          typeof result.then === 'function') {
        var promise = apply(promiseResolve, PromiseC, [result]);
        apply(promiseThen, promise, [succeed, function (e) { fail(e, false); }]);
        return state;
      }
    } catch (e) {
      fail(e, false);
      return state;
    }
    succeed(result);
    return state;
  }

  return function ctl(op, a, b, c, d, e) {
    switch (op) {
      case 'run': return $apRun(a, b, c, d, e);
      case 'state': return state;
      case 'value': return value;
      case 'error': return shared.error;
      case 'logs': return modules.support ? modules.support.exports.logsJson() : '[]';
      case 'preload': load('lodash'); load('dayjs'); load('uuid'); load('crypto'); return state;
    }
  };
})
