"""Analytics over stored benchmarks: period summaries with trends, model comparisons with significance tests,
exports (Prometheus text, CSV, Parquet, JSON) and the PDF report. SQL lives in app.storage.analytics."""
