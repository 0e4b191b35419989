// Device Log: new lines arrive over server-sent events and are appended to the view.
"use strict";
(() => {
  const view = document.getElementById("log-lines");
  const live = document.getElementById("log-live");
  const KEEP = 2000;

  function append(line) {
    const atEnd = view.scrollTop + view.clientHeight >= view.scrollHeight - 4;
    view.appendChild(document.createTextNode(`${line}\n`));
    while (view.childNodes.length > KEEP) view.removeChild(view.firstChild);
    if (atEnd) view.scrollTop = view.scrollHeight;
  }

  view.scrollTop = view.scrollHeight;
  const source = new EventSource(`/device-log/events?after=${encodeURIComponent(view.dataset.after)}`);
  source.addEventListener("line", (event) => append(event.data));
  source.addEventListener("lost", (event) => append(`[${event.data} lines were lost: the view fell behind]`));
  source.addEventListener("open", () => { live.textContent = "connected"; });
  source.addEventListener("error", () => { live.textContent = "reconnecting…"; });
})();
