/* The staff console's small enhancements. Every page works without this file. */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /* Ask before a destructive action: <form data-confirm="確定要封存嗎？"> */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form && form.getAttribute && form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  /* JSON calls from console scripts carry the session's CSRF token. */
  function fetchJson(url, options) {
    options = options || {};
    var headers = Object.assign({ "Accept": "application/json" }, options.headers || {});
    if (options.method && options.method !== "GET") {
      headers["X-CSRF-Token"] = csrfToken();
    }
    if (options.body && typeof options.body !== "string" && !(options.body instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(options.body);
    }
    return fetch(url, Object.assign({}, options, { headers: headers, credentials: "same-origin" })).then(
      function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            throw new Error((body && body.detail) || response.statusText);
          }
          return body;
        });
      }
    );
  }

  /* Import progress: <section data-import-status="/console/kb/import/7/status"> */
  function followImport(section) {
    var url = section.getAttribute("data-import-status");
    var bar = section.querySelector("progress");
    var text = section.querySelector("[data-import-text]");
    function tick() {
      fetchJson(url).then(function (job) {
        if (bar && job.total) {
          bar.max = job.total;
          bar.value = job.done;
        }
        if (text) {
          text.textContent = job.message;
        }
        if (job.finished) {
          window.location.reload();
        } else {
          window.setTimeout(tick, 1000);
        }
      }).catch(function () {
        window.setTimeout(tick, 3000);
      });
    }
    window.setTimeout(tick, 500);
  }

  function ready() {
    var sections = document.querySelectorAll("[data-import-status]");
    for (var i = 0; i < sections.length; i++) {
      followImport(sections[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }

  window.bot1999Console = { csrfToken: csrfToken, fetchJson: fetchJson };
})();
