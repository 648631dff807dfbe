// Draw every chart whose figure the page carries (a JSON script beside its <div>).
document.querySelectorAll("figure.chart").forEach(function (figure) {
  var source = figure.querySelector("script[type='application/json']");
  var target = figure.querySelector(".plot");
  if (!source || !target || typeof Plotly === "undefined") { return; }
  var spec = JSON.parse(source.textContent);
  Plotly.newPlot(target, spec.data, spec.layout, {displayModeBar: false, responsive: true});
});
