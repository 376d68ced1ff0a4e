// Draw every Vega-Lite spec the server embedded in the page, and again after HTMX swaps.
(function () {
  function draw(root) {
    root.querySelectorAll("script.chart-spec").forEach(function (node) {
      var target = document.getElementById(node.dataset.target);
      if (!target || target.dataset.drawn === "1") return;
      target.dataset.drawn = "1";
      vegaEmbed(target, JSON.parse(node.textContent), { actions: false, renderer: "svg" })
        .catch(function (err) { target.textContent = "chart failed: " + err; });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (e) { draw(e.target.parentNode || document); });
})();
