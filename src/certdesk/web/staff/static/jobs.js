// The job page's poll: progress from /staff/jobs/<id>.json, and the whole page again once
// the job has ended (the result is rendered by the server). Without scripts the page
// refreshes itself (<noscript> meta refresh). The state words come from the page (data-states),
// in its language: the script holds no text of its own.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) { return; }
  var ended = ["done", "failed", "interrupted"];
  var every = 1000 * (parseInt(box.getAttribute("data-poll"), 10) || 2);
  var words = JSON.parse(box.getAttribute("data-states") || "{}");
  function poll() {
    fetch(box.getAttribute("data-json"), {credentials: "same-origin", cache: "no-store"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (!job) { setTimeout(poll, every); return; }
        var bar = document.getElementById("job-progress");
        bar.max = job.total || 1;
        bar.value = job.done;
        document.getElementById("job-count").textContent = job.done + " / " + job.total;
        var state = document.getElementById("job-state");
        state.textContent = words[job.state] || job.state_label;
        state.className = "badge job-" + job.state;
        if (ended.indexOf(job.state) >= 0) { window.location.reload(); } else { setTimeout(poll, every); }
      })
      .catch(function () { setTimeout(poll, every); });
  }
  setTimeout(poll, every);
}());
