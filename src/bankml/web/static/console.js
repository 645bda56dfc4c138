// Draw every chart on the page from its data-figure JSON, with the Plotly JS the service serves.
(function () {
  "use strict";
  function draw() {
    if (!window.Plotly) { return; }
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var fig = JSON.parse(el.getAttribute("data-figure"));
      // Responsive charts fill their box on a resize: give the box the figure's height, or a
      // resize (a window, a full-page screenshot) squeezes the chart into the CSS minimum.
      if (fig.layout && fig.layout.height) { el.style.height = (fig.layout.height + 2) + "px"; }
      window.Plotly.newPlot(el, fig.data, fig.layout, {displaylogo: false, responsive: true});
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
