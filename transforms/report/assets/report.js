// reelbeam report page: search, filter and sort the video cards; seek the proxy to a segment.
// Plain JavaScript, no dependencies; the page is complete without it.
(function () {
  "use strict";

  var grid = document.getElementById("cards");
  if (!grid) {
    return;
  }
  var cards = Array.prototype.slice.call(grid.querySelectorAll(".card"));
  var form = document.querySelector("form.toolbar");
  var search = document.getElementById("q");
  var fieldSelects = Array.prototype.slice.call(document.querySelectorAll("select[data-field]"));
  var motionSelect = document.getElementById("f-motion");
  var sortSelect = document.getElementById("sort");
  var count = document.getElementById("count");
  var noMatch = document.getElementById("no-match");
  var failureRows = Array.prototype.slice.call(document.querySelectorAll("#failures tbody tr"));
  var failuresNone = document.getElementById("failures-none");

  var fieldsByCard = new Map();
  cards.forEach(function (card) {
    var fields = {};
    try {
      fields = JSON.parse(card.dataset.fields || "{}");
    } catch (err) {
      fields = {};
    }
    fieldsByCard.set(card, fields);
  });

  function tokens(text) {
    return text.toLowerCase().split(/\s+/).filter(Boolean);
  }

  function matchesAll(haystack, words) {
    for (var i = 0; i < words.length; i++) {
      if (haystack.indexOf(words[i]) === -1) {
        return false;
      }
    }
    return true;
  }

  function cardVisible(card, words) {
    if (!matchesAll(card.dataset.search || "", words)) {
      return false;
    }
    var fields = fieldsByCard.get(card);
    for (var i = 0; i < fieldSelects.length; i++) {
      var want = fieldSelects[i].value;
      if (want && fields[fieldSelects[i].dataset.field] !== want) {
        return false;
      }
    }
    var motion = motionSelect ? motionSelect.value : "";
    var analysed = card.dataset.analysed === "1";
    var segments = parseInt(card.dataset.segments || "0", 10);
    if (motion === "with" && !(segments > 0)) {
      return false;
    }
    if (motion === "without" && !(analysed && segments === 0)) {
      return false;
    }
    if (motion === "unanalysed" && analysed) {
      return false;
    }
    return true;
  }

  function sortKey(card, key) {
    if (key === "name") {
      return (card.dataset.id || "").toLowerCase();
    }
    if (key === "indexed") {
      return card.dataset.indexed || "";
    }
    var value = parseFloat(card.dataset[key]);
    return isNaN(value) ? -Infinity : value;
  }

  function sortCards() {
    var parts = (sortSelect ? sortSelect.value : "name:asc").split(":");
    var key = parts[0];
    var sign = parts[1] === "desc" ? -1 : 1;
    var sorted = cards.slice().sort(function (a, b) {
      var ka = sortKey(a, key);
      var kb = sortKey(b, key);
      if (ka < kb) {
        return -sign;
      }
      if (ka > kb) {
        return sign;
      }
      return (a.dataset.id || "").localeCompare(b.dataset.id || "");
    });
    sorted.forEach(function (card) {
      grid.appendChild(card);
    });
  }

  function apply() {
    var words = tokens(search ? search.value : "");
    var shown = 0;
    cards.forEach(function (card) {
      var visible = cardVisible(card, words);
      card.hidden = !visible;
      if (visible) {
        shown += 1;
      }
    });
    if (count) {
      count.textContent = shown + " of " + cards.length + " video" + (cards.length === 1 ? "" : "s");
    }
    if (noMatch) {
      noMatch.hidden = shown > 0 || cards.length === 0;
    }
    var failuresShown = 0;
    failureRows.forEach(function (row) {
      var visible = matchesAll(row.dataset.search || "", words);
      row.hidden = !visible;
      if (visible) {
        failuresShown += 1;
      }
    });
    if (failuresNone) {
      failuresNone.hidden = failuresShown > 0 || failureRows.length === 0;
    }
  }

  function saveState() {
    var params = new URLSearchParams();
    if (search && search.value) {
      params.set("q", search.value);
    }
    fieldSelects.forEach(function (select) {
      if (select.value) {
        params.set("f." + select.dataset.field, select.value);
      }
    });
    if (motionSelect && motionSelect.value) {
      params.set("motion", motionSelect.value);
    }
    if (sortSelect && sortSelect.value !== "name:asc") {
      params.set("sort", sortSelect.value);
    }
    var hash = params.toString();
    var current = window.location.hash.replace(/^#/, "");
    if (hash === current || (hash === "" && current.indexOf("=") === -1)) {
      return; // unchanged, or an anchor such as #failures that is not ours to clear
    }
    try {
      history.replaceState(null, "", hash ? "#" + hash : window.location.pathname + window.location.search);
    } catch (err) {
      // Some browsers refuse history changes on file:// pages; the state just is not kept.
    }
  }

  function setSelect(select, value) {
    if (!select || value === null) {
      return;
    }
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === value) {
        select.value = value;
        return;
      }
    }
  }

  function loadState() {
    var hash = window.location.hash.replace(/^#/, "");
    if (!hash || hash.indexOf("=") === -1) {
      return;
    }
    var params = new URLSearchParams(hash);
    if (search && params.get("q") !== null) {
      search.value = params.get("q");
    }
    fieldSelects.forEach(function (select) {
      setSelect(select, params.get("f." + select.dataset.field));
    });
    setSelect(motionSelect, params.get("motion"));
    setSelect(sortSelect, params.get("sort"));
  }

  function update() {
    sortCards();
    apply();
    saveState();
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
    });
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    form.addEventListener("reset", function () {
      window.setTimeout(update, 0);
    });
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA");
    if (event.key === "/" && !typing && search) {
      event.preventDefault();
      search.focus();
    }
  });

  // A click on a segment (timeline rectangle or chip) plays the card's proxy from its start.
  grid.addEventListener("click", function (event) {
    var target = event.target && event.target.closest ? event.target.closest("[data-seek]") : null;
    if (!target) {
      return;
    }
    var card = target.closest(".card");
    var video = card ? card.querySelector("video.proxy") : null;
    var start = parseFloat(target.getAttribute("data-seek"));
    if (!video || isNaN(start)) {
      return;
    }
    video.currentTime = start;
    var playing = video.play();
    if (playing && playing.catch) {
      playing.catch(function () {});
    }
  });

  loadState();
  update();
})();
