"""punchlab.analysis: plots and an HTML report from punchlab results.

It reads files only -- results directories (results.json, latency.csv) and
`punchlab matrix` directories (matrix.json) -- never the C++ core, so it
works wherever Debian's python3-matplotlib does.

  results_dir   load_results_dir(): one results directory as dataclasses
  matrix_dir    load_matrix_dir(): a NAT-matrix directory
  pair_paths    a pair's path over time (both sides must agree), path changes
  rtt_timeline  RTT over time per pair, path shaded, changes marked
  sequence_diagram  a pair's punch, message by message, from the disco log
  rtt_cdf       the CDF of direct vs relayed RTT
  heatmap       time to direct per NAT pair, as a heat map
  html_report   the self-contained HTML report; main() of `punchlab report`

Each plot module has a *_data() function (the numbers) and a plot_*()
function (a matplotlib Figure drawn from exactly those numbers), so tests can
check the data behind a plot without looking at pixels.
"""
