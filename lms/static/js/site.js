// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  var strings = {};
  try { strings = JSON.parse(document.getElementById("lms-strings").dataset.strings); } catch (e) { /* none */ }
  function t(name, values) {
    return (strings[name] || "").replace(/\{(\w+)\}/g, function (all, key) {
      return values && key in values ? values[key] : all;
    });
  }

  // Step forms (province → commune) move on as soon as a choice is made.
  document.querySelectorAll("form.autosubmit select").forEach(function (select) {
    select.addEventListener("change", function () { if (select.value) select.form.submit(); });
  });

  var offline = window.LmsOffline;
  var canKeep = !!(offline && "serviceWorker" in navigator && window.caches && window.indexedDB);

  // --- The service worker (installable app, saved courses) ---------------------------
  if (canKeep && document.body.dataset.sw) {
    navigator.serviceWorker.register(document.body.dataset.sw, { scope: "/" }).catch(function () { /* http */ });
  }

  // --- What waits to be sent -----------------------------------------------------------
  var status = document.getElementById("offline-status");
  function timeText(ms) {
    return new Date(ms).toLocaleString(document.documentElement.lang === "en" ? "en-GB" : "vi-VN",
                                       { hour: "2-digit", minute: "2-digit", day: "numeric", month: "numeric" });
  }
  function showPending(extra) {
    if (!canKeep || !status) return Promise.resolve();
    return offline.pending().then(function (p) {
      if (!p.total && !extra) { status.hidden = true; return; }
      var parts = [];
      if (p.lessons) parts.push(p.lessons === 1 ? t("oneLesson") : t("lessons", { count: p.lessons }));
      if (p.quizzes) parts.push(t("quiz"));
      if (extra) parts.push(extra);
      parts.push(p.lastSent ? t("lastSent", { time: timeText(p.lastSent) }) : t("neverSent"));
      status.querySelector("p").textContent = parts.join(" · ");
      status.querySelector("button").hidden = !p.total;
      status.hidden = false;
    });
  }

  function askBackgroundSync() {
    if (!canKeep) return;
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.sync) return registration.sync.register("lms-sync");
      return null;
    }).catch(function () { /* no Background Sync: the next page load or the button sends */ });
  }

  function sync(force) {
    if (!canKeep) return Promise.resolve(null);
    return offline.sync({ force: force }).then(function (result) {
      if (result.session) refreshChangedCourses(result.session.courses);
      if (result.reason === "offline" || result.reason === "server" || result.reason === "waiting") retryLater();
      showResults();
      return showPending(result.reason === "login" ? t("loginToSend") : "").then(function () { return result; });
    });
  }
  window.lmsSync = sync;  // for the tests and the button

  // After a failure, try again when the back-off says (the page stays open: a phone on a
  // table waiting for the signal).
  var retryTimer = null;
  function retryLater() {
    if (retryTimer) return;
    offline.getMeta("backoff", {}).then(function (state) {
      var wait = Math.max(1000, (state.until || 0) - Date.now());
      retryTimer = setTimeout(function () { retryTimer = null; sync(false); }, wait);
    });
  }

  if (status) {
    status.querySelector("button").addEventListener("click", function () {
      status.querySelector("p").textContent = t("sending");
      sync(true);
    });
  }

  // --- Saving a course on this phone ---------------------------------------------------
  var COURSE_CACHE = "course-";
  function sizeText(bytes) {
    var lang = document.documentElement.lang === "en" ? "en" : "vi";
    return (bytes >= 1e6 ? (bytes / 1e6).toLocaleString(lang, { maximumFractionDigits: 1 }) + " MB"
                         : Math.max(1, Math.round(bytes / 1e3)) + " KB");
  }

  function saveCourse(manifestUrl, slug, onProgress) {
    var manifest, done = 0;
    return fetch(manifestUrl, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("manifest");
      return r.json();
    }).then(function (m) {
      manifest = m;
      if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
      return caches.delete(COURSE_CACHE + slug).then(function () { return caches.open(COURSE_CACHE + slug); });
    }).then(function (cache) {
      // One file after another: a weak connection is not shared between ten downloads.
      return manifest.files.reduce(function (previous, file) {
        return previous.then(function () {
          return fetch(file.url, { credentials: "same-origin" }).then(function (response) {
            if (!response.ok) throw new Error(file.url);
            return cache.put(file.key || file.url, response);
          }).then(function () { done += 1; onProgress(done, manifest.files.length); });
        });
      }, Promise.resolve());
    }).then(function () {
      return offline.getMeta("courses", {});
    }).then(function (courses) {
      courses[slug] = { hash: manifest.hash, bytes: manifest.total_bytes, savedAt: Date.now(), manifest: manifestUrl };
      return offline.setMeta("courses", courses);
    }).then(function () { return manifest; });
  }

  function removeCourse(slug) {
    return caches.delete(COURSE_CACHE + slug).then(function () { return offline.getMeta("courses", {}); })
      .then(function (courses) { delete courses[slug]; return offline.setMeta("courses", courses); });
  }

  // A course changed on the server while the phone kept an older copy: fetch it again.
  function refreshChangedCourses(hashes) {
    offline.getMeta("courses", {}).then(function (courses) {
      Object.keys(courses).forEach(function (slug) {
        if (hashes && hashes[slug] && hashes[slug] !== courses[slug].hash) {
          saveCourse(courses[slug].manifest, slug, function () {}).catch(function () { /* next time */ });
        }
      });
    });
  }

  function showResults() {
    var box = document.querySelector(".offline-save .offline-result");
    if (!box) return;
    var slug = box.closest(".offline-save").dataset.course;
    offline.getMeta("results", {}).then(function (results) {
      var r = results[slug];
      if (!r) return;
      box.textContent = r.changed ? t("quizChanged") : t(r.passed ? "quizPassed" : "quizFailed", { score: r.score + "%" });
      box.hidden = false;
    });
  }

  var saveBox = document.querySelector(".offline-save");
  if (saveBox && canKeep) {
    var slug = saveBox.dataset.course;
    var saveButton = saveBox.querySelector("[data-action=save]");
    var progressLine = saveBox.querySelector(".offline-progress");
    var savedLine = saveBox.querySelector(".offline-saved");
    var sizeLine = saveBox.querySelector(".offline-size");
    var showSaved = function (saved) {
      savedLine.hidden = !saved;
      saveButton.parentNode.hidden = saved;
      sizeLine.hidden = saved;
    };
    offline.getMeta("courses", {}).then(function (courses) {
      showSaved(!!courses[slug]);
      saveBox.hidden = false;
      if (!courses[slug]) {
        fetch(saveBox.dataset.manifest, { credentials: "same-origin" }).then(function (r) { return r.json(); })
          .then(function (m) { sizeLine.textContent = t("size", { size: sizeText(m.total_bytes) }); })
          .catch(function () { /* shown without a size */ });
      }
    });
    showResults();
    saveButton.addEventListener("click", function () {
      saveButton.disabled = true;
      progressLine.hidden = false;
      var bar = progressLine.querySelector("progress"), label = progressLine.querySelector("span");
      // The page must be controlled by the worker for saved pages to open offline.
      navigator.serviceWorker.ready.then(function () {
        return saveCourse(saveBox.dataset.manifest, slug, function (done, total) {
          bar.value = Math.round(100 * done / total);
          label.textContent = t("saving", { done: done, total: total });
        });
      }).then(function () {
        return offline.sync({});  // records whose phone this is
      }).then(function () {
        progressLine.hidden = true;
        showSaved(true);
      }).catch(function () {
        progressLine.hidden = true;
        sizeLine.textContent = t("saveFailed");
      }).then(function () { saveButton.disabled = false; });
    });
    saveBox.querySelector("[data-action=remove]").addEventListener("click", function () {
      removeCourse(slug).then(function () { showSaved(false); });
    });
  }

  // --- Learning offline: lessons and the quiz kept on the phone -------------------------
  function queue(event) {
    return offline.add(event).then(function () { askBackgroundSync(); return showPending(); });
  }

  // Is the server reachable? `navigator.onLine` says true on a phone with no signal (and
  // in Chromium's own offline mode), so a page of a saved course asks: a HEAD of the
  // service worker's script, a few hundred bytes from the static folder, no database.
  function reachable() {
    return fetch(document.body.dataset.sw, { method: "HEAD", cache: "no-store" })
      .then(function (r) { return r.ok; }, function () { return false; });
  }
  // Before a form of a saved page is sent: a fresh CSRF token (the page may have been
  // kept for days, its token expired), or null when the server cannot be reached.
  function freshToken() {
    return fetch("/offline/session", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; }, function () { return null; })
      .then(function (session) { return session ? session.csrf_token : null; });
  }
  function sendOrKeep(form, keep) {
    isSaved(form.dataset.course).then(function (saved) { return saved ? freshToken() : ""; }).then(function (token) {
      if (token === null) { keep(); return; }
      if (token && form.elements.csrf_token) form.elements.csrf_token.value = token;
      form.dataset.checked = "1";
      form.submit();
    });
  }
  function isSaved(slug) {
    return offline.getMeta("courses", {}).then(function (courses) { return !!courses[slug]; });
  }

  var lessonForm = document.querySelector("form.lesson-complete");
  if (lessonForm && canKeep) {
    var lessonId = parseInt(lessonForm.dataset.lesson, 10), opened = Date.now(), deepest = 0, away = false;
    var common = { type: "progress", course: lessonForm.dataset.course, lesson_id: lessonId };
    var readSeconds = function () { return Math.min(3600, Math.round((Date.now() - opened) / 1000)); };
    isSaved(lessonForm.dataset.course).then(function (saved) { return saved && reachable(); }).then(function (online) {
      if (online !== false) return;  // not saved, or online: the server records as without JavaScript
      away = true;
      queue(Object.assign({ kind: "view" }, common));
    });
    window.addEventListener("scroll", function () {
      var seen = (window.scrollY + window.innerHeight) / document.documentElement.scrollHeight;
      deepest = Math.max(deepest, Math.min(99, Math.round(100 * seen)));
    }, { passive: true });
    window.addEventListener("pagehide", function () {
      if (away && deepest > 0 && !lessonForm.dataset.sent) {
        offline.add(Object.assign({ kind: "progress", progress: deepest, seconds: readSeconds() }, common));
      }
    });
    lessonForm.addEventListener("submit", function (e) {
      if (lessonForm.dataset.checked) return;
      e.preventDefault();
      sendOrKeep(lessonForm, function () {
        lessonForm.dataset.sent = "1";
        queue(Object.assign({ kind: "complete", seconds: readSeconds() }, common)).then(function () {
          window.location.href = lessonForm.dataset.next;
        });
      });
    });
  }

  var quizForm = document.querySelector("form.quiz[data-course]");
  if (quizForm && canKeep) {
    var note = quizForm.querySelector(".offline-quiz-note");
    isSaved(quizForm.dataset.course).then(function (saved) { return saved ? reachable() : true; }).then(function (online) {
      if (note) note.hidden = online;
    });
    quizForm.addEventListener("submit", function (e) {
      if (quizForm.dataset.checked) return;
      e.preventDefault();
      sendOrKeep(quizForm, keepQuiz);
    });
  }

  function keepQuiz() {
    var answers = {}, missing = 0;
    quizForm.querySelectorAll("fieldset").forEach(function (fieldset) {
      var chosen = Array.prototype.map.call(fieldset.querySelectorAll("input:checked"), function (input) {
        return parseInt(input.value, 10);
      });
      var name = fieldset.querySelector("input").name;
      if (chosen.length) answers[name] = chosen; else missing += 1;
    });
    var old = quizForm.parentNode.querySelector(".offline-quiz-message");
    if (old) old.remove();
    var message = document.createElement("p");
    message.className = "flash offline-quiz-message";
    message.setAttribute("role", "status");
    if (missing) {
      message.textContent = t("answerAll", { count: missing });
      quizForm.parentNode.insertBefore(message, quizForm);
      return;
    }
    queue({ type: "quiz", course: quizForm.dataset.course, version: parseInt(quizForm.dataset.version, 10),
            answers: answers }).then(function () {
      message.textContent = t("kept");
      quizForm.parentNode.replaceChild(message, quizForm);
    });
  }

  // --- Listening to a lesson -------------------------------------------------------------
  var listen = document.querySelector("[data-action=listen]");
  if (listen && window.speechSynthesis && window.SpeechSynthesisUtterance) {
    var lang = listen.dataset.lang, label = listen.textContent;
    var voiceFor = function () {
      var prefix = lang.slice(0, 2).toLowerCase();
      var voices = speechSynthesis.getVoices();
      return voices.filter(function (v) { return v.lang.replace("_", "-") === lang; })[0] ||
             voices.filter(function (v) { return v.lang.toLowerCase().indexOf(prefix) === 0; })[0] || null;
    };
    var offerIfVoice = function () { listen.parentNode.hidden = !voiceFor(); };
    offerIfVoice();
    speechSynthesis.addEventListener("voiceschanged", offerIfVoice);
    listen.addEventListener("click", function () {
      if (speechSynthesis.speaking) {
        speechSynthesis.cancel();
        listen.textContent = label;
        return;
      }
      var article = listen.closest("article").cloneNode(true);
      article.querySelectorAll(".listen").forEach(function (node) { node.remove(); });
      var utterance = new SpeechSynthesisUtterance(article.innerText || article.textContent);
      utterance.lang = lang;
      utterance.voice = voiceFor();
      utterance.rate = 0.9;  // a little slower than usual: many listeners are new to the subject
      utterance.onend = function () { listen.textContent = label; };
      listen.textContent = listen.dataset.stop;
      speechSynthesis.speak(utterance);
    });
  }

  // --- Log out: a shared phone keeps no saved pages of this person -----------------------
  document.querySelectorAll("form[action$='/logout']").forEach(function (form) {
    form.addEventListener("submit", function () {
      if (!canKeep) return;
      caches.keys().then(function (names) {
        names.filter(function (n) { return n.indexOf(COURSE_CACHE) === 0; }).forEach(function (n) { caches.delete(n); });
      });
      offline.setMeta("courses", {});
    });
  });

  // On every page load with a connection, and when the connection returns: send.
  // (Only when something waits, or a saved course was not checked for an hour: a page
  // load costs the server nothing more otherwise.)
  var CHECK_EVERY_MS = 3600 * 1000;
  if (canKeep) {
    Promise.all([offline.pending(), offline.getMeta("courses", {}), offline.getMeta("checked", 0)]).then(function (all) {
      showPending();
      var stale = Object.keys(all[1]).length && Date.now() - all[2] > CHECK_EVERY_MS;
      if (all[0].total || stale) {
        offline.setMeta("checked", Date.now());
        sync(false);
      }
    });
    window.addEventListener("online", function () { sync(true); });
  }
})();
