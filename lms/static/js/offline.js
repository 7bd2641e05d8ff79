// Learning without a connection: the queue on the phone and the sync that empties it.
// Loaded by the pages and by the service worker (importScripts), so it uses nothing
// of `window` or `document`. See docs/offline.md.
//
// IndexedDB "lms-offline" holds two stores:
//   queue  {id, learner, type: "progress"|"quiz", course, created, ...}  what waits to be sent
//   meta   {key, value}  "learner" (whose session this phone last saw), "lastSent",
//          "backoff" {failures, until}, "courses" {slug: {hash, bytes, savedAt}},
//          "results" {slug: {passed, score, changed}} (quiz results the server gave)
// Every event carries a random id made on the phone: the server stores each id once
// per learner, so a batch sent twice (a retry, a tab closed mid-sync) counts once.
(function (scope) {
  "use strict";
  var DB_NAME = "lms-offline", DB_VERSION = 1, BATCH = 20;
  var BACKOFF_FIRST_MS = 5000, BACKOFF_MAX_MS = 15 * 60 * 1000;
  var dbPromise = null, running = null;

  function open() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var request = indexedDB.open(DB_NAME, DB_VERSION);
        request.onupgradeneeded = function () {
          var db = request.result;
          db.createObjectStore("queue", { keyPath: "id" });
          db.createObjectStore("meta", { keyPath: "key" });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return dbPromise;
  }

  function tx(store, mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(store, mode), result;
        var request = work(transaction.objectStore(store));
        if (request) request.onsuccess = function () { result = request.result; };
        transaction.oncomplete = function () { resolve(result); };
        transaction.onerror = function () { reject(transaction.error); };
        transaction.onabort = function () { reject(transaction.error); };
      });
    });
  }

  function getMeta(key, fallback) {
    return tx("meta", "readonly", function (s) { return s.get(key); }).then(function (row) {
      return row ? row.value : fallback;
    });
  }
  function setMeta(key, value) { return tx("meta", "readwrite", function (s) { return s.put({ key: key, value: value }); }); }
  function allEvents() { return tx("queue", "readonly", function (s) { return s.getAll(); }); }
  function removeEvents(ids) {
    return tx("queue", "readwrite", function (s) { ids.forEach(function (id) { s.delete(id); }); });
  }

  function newId() {
    if (scope.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  // Keep one event (a lesson read, completed, or a quiz attempt) for the learner this
  // phone last saw online.
  function add(event) {
    return getMeta("learner", null).then(function (learner) {
      var row = Object.assign({ id: newId(), learner: learner, created: Date.now(),
                                occurred_at: new Date().toISOString() }, event);
      return tx("queue", "readwrite", function (s) { return s.put(row); }).then(function () {
        return row;
      });
    });
  }

  // What waits for this learner: lessons with events, and quiz attempts.
  function pending() {
    return Promise.all([allEvents(), getMeta("learner", null), getMeta("lastSent", null)]).then(function (all) {
      var mine = all[0].filter(function (e) { return e.learner === all[1]; });
      var lessons = {};
      mine.forEach(function (e) { if (e.type === "progress") lessons[e.lesson_id] = true; });
      return { lessons: Object.keys(lessons).length,
               quizzes: mine.filter(function (e) { return e.type === "quiz"; }).length,
               total: mine.length, lastSent: all[2] };
    });
  }

  function problemCode(body) {
    // RFC 9457 problem details carry `code` at the top level; older answers under `error`.
    if (!body) return null;
    return body.code || (body.error && body.error.code) || null;
  }

  function postJSON(url, body, csrf) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept-Language": "" },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (json) {
        return { status: response.status, body: json };
      });
    });
  }

  function backOff() {
    return getMeta("backoff", { failures: 0 }).then(function (state) {
      var failures = state.failures + 1;
      var wait = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * Math.pow(2, failures - 1));
      wait = wait / 2 + Math.random() * wait / 2;  // jitter: a province does not retry in step
      return setMeta("backoff", { failures: failures, until: Date.now() + wait });
    });
  }

  function Stop(reason) { this.reason = reason; }

  function sendProgress(session, events) {
    var batches = [];
    for (var i = 0; i < events.length; i += BATCH) batches.push(events.slice(i, i + BATCH));
    return batches.reduce(function (previous, batch) {
      return previous.then(function () {
        var body = { events: batch.map(function (e) {
          var out = { id: e.id, lesson_id: e.lesson_id, kind: e.kind, occurred_at: e.occurred_at };
          if (e.progress != null) out.progress = e.progress;
          if (e.seconds) out.seconds = e.seconds;
          return out;
        }) };
        return postJSON(session.progress_url, body, session.csrf_token).then(function (answer) {
          if (answer.status === 200) {  // applied, duplicate (sent before) or rejected: all done with
            return removeEvents(answer.body.results.map(function (r) { return r.id; }));
          }
          if (answer.status === 400) return removeEvents(batch.map(function (e) { return e.id; }));
          throw new Stop(answer.status === 401 || answer.status === 403 ? "login" : "server");
        });
      });
    }, Promise.resolve());
  }

  function sendQuiz(session, attempt) {
    var url = session.quiz_url.replace("__slug__", encodeURIComponent(attempt.course));
    return postJSON(url, { id: attempt.id, answers: attempt.answers }, session.csrf_token).then(function (answer) {
      var code = problemCode(answer.body);
      if (answer.status === 200 || answer.status === 201 || (answer.status === 422 && code !== "quiz-locked")) {
        return getMeta("results", {}).then(function (results) {
          var ok = answer.status < 300;
          results[attempt.course] = { passed: ok && answer.body.passed, score: ok ? answer.body.score : null,
                                      changed: !ok, at: Date.now() };
          return setMeta("results", results);
        }).then(function () { return removeEvents([attempt.id]); });
      }
      if (answer.status === 422) return null;  // lessons not all recorded yet: kept for the next sync
      if (answer.status === 400) return removeEvents([attempt.id]);
      throw new Stop(answer.status === 401 || answer.status === 403 ? "login" : "server");
    });
  }

  // Send everything waiting for the learner now logged in. Resolves to
  // {sent, reason?, session}; one sync at a time per page or worker.
  function sync(options) {
    options = options || {};
    if (running) return running;
    running = getMeta("backoff", { failures: 0 }).then(function (state) {
      if (!options.force && state.until && state.until > Date.now()) return { sent: 0, reason: "waiting" };
      return fetch(options.sessionUrl || "/offline/session", { credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) throw new Stop("server");
          return response.json();
        })
        .then(function (session) {
          if (session.learner == null) return { sent: 0, reason: "login", session: session };
          return setMeta("learner", session.learner).then(allEvents).then(function (events) {
            var mine = events.filter(function (e) { return e.learner === session.learner || e.learner == null; })
              .sort(function (a, b) { return a.created - b.created; });
            var progress = mine.filter(function (e) { return e.type === "progress"; });
            var quizzes = mine.filter(function (e) { return e.type === "quiz"; });
            return sendProgress(session, progress)
              .then(function () {
                return quizzes.reduce(function (p, q) { return p.then(function () { return sendQuiz(session, q); }); },
                                      Promise.resolve());
              })
              .then(function () { return setMeta("backoff", { failures: 0 }); })
              .then(function () { return mine.length ? setMeta("lastSent", Date.now()) : null; })
              .then(function () { return { sent: mine.length, session: session }; });
          });
        })
        .catch(function (error) {
          var reason = error instanceof Stop ? error.reason : "offline";
          return (reason === "login" ? Promise.resolve() : backOff()).then(function () {
            return { sent: 0, reason: reason };
          });
        });
    }).then(function (result) { running = null; return result; }, function (error) { running = null; throw error; });
    return running;
  }

  scope.LmsOffline = { add: add, pending: pending, sync: sync, getMeta: getMeta, setMeta: setMeta,
                       problemCode: problemCode, BATCH: BATCH };
})(self);
