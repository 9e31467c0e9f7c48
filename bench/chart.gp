# chart.gp - gnuplot script of bench/report.sh: two panels, throughput and p99 latency, one group
# of bars per scenario, one bar per proxy.
#
# Usage: gnuplot -e "rps='RPS.dat'; p99='P99.dat'; out='OUT.png'; title='...'" bench/chart.gp
# Each .dat file: a header line "scenario direct gateway nginx haproxy caddy", then one line per
# scenario; "-" marks a proxy without a run in that scenario.

set terminal pngcairo size 1100,900 font "sans,10"
set output out
set datafile missing "-"
set style fill solid 0.85 border -1
set key outside right top vertical
set grid ytics
set xtics nomirror scale 0
set xrange [-0.6:4.6]

# Bar j (2..6, one per proxy) of row r (0..4, one per scenario) sits at r + (j - 4) * w.
w = 0.17
scenarios = "clean kill freeze rolling consul"
set for [r=0:4] xtics add (word(scenarios, r + 1) r)

set multiplot layout 2,1 title "Gateway vs nginx, HAProxy, Caddy (".title.")"

set title "Throughput: successful requests/s (higher is better)"
set ylabel "req/s"
set yrange [0:*]
set offsets 0, 0, graph 0.05, 0
plot for [j=2:6] rps using ($0 + (j - 4) * w):j:(w) with boxes title columnheader(j)

set title "p99 latency (log scale, lower is better)"
set ylabel "ms"
set logscale y
set yrange [0.1:*]
set offsets 0, 0, 0, 0
plot for [j=2:6] p99 using ($0 + (j - 4) * w):j:(w) with boxes title columnheader(j)

unset multiplot
