// The service worker of Bình dân học vụ số (docs/offline.md).
//
// It does three things and no more:
//  1. keeps the site's shell (styles, scripts, icons, the offline help page) in the
//     cache "shell-<version>", replaced when the static files change;
//  2. answers page requests from the network, and from the saved courses (caches
//     "course-<slug>", filled by the page when the learner saves a course) when the
//     network fails;
//  3. sends the queued progress when the browser says the connection is back
//     (Background Sync), with the same code the pages use (offline.js).
// It never caches the API, never answers a POST, and never touches another origin.
"use strict";

var VERSION = new URL(self.location.href).searchParams.get("v") || "dev";
var SHELL = "shell-" + VERSION;
var SHELL_FILES = ["/static/css/site.css", "/static/js/site.js", "/static/js/offline.js",
                   "/static/icons/icon-192.png"].map(function (path) { return path + "?v=" + VERSION; })
                  .concat(["/help/offline"]);

importScripts("/static/js/offline.js?v=" + VERSION);

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) { return cache.addAll(SHELL_FILES); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  // Old shells go; saved courses stay (they are the learner's, removed only by the learner).
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name.indexOf("shell-") === 0 && name !== SHELL; })
      .map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function staticFile(request) {
  // Versioned URLs never change: the cache first. Offline, a page saved with an older
  // version of the styles gets the version the shell has.
  return caches.match(request, { ignoreVary: true }).then(function (found) {
    return found || fetch(request).catch(function () {
      return caches.match(request, { ignoreVary: true, ignoreSearch: true }).then(function (old) {
        return old || Response.error();
      });
    });
  });
}

function page(request) {
  return fetch(request).catch(function () {
    return caches.match(request, { ignoreVary: true }).then(function (found) {
      if (found) return found;
      if (request.mode === "navigate") return caches.match("/help/offline", { ignoreVary: true });
      return undefined;
    }).then(function (found) { return found || Response.error(); });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.indexOf("/api/") === 0 ||
      url.pathname.indexOf("/offline/") === 0) {
    return;  // the network as usual
  }
  event.respondWith(url.pathname.indexOf("/static/") === 0 ? staticFile(request) : page(request));
});

self.addEventListener("sync", function (event) {
  if (event.tag === "lms-sync") event.waitUntil(self.LmsOffline.sync({ force: true }));
});
