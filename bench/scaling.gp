# scaling.gp - gnuplot script of bench/report.sh: one scaling curve (wrk connections, backends or
# body size) in four panels, one line per proxy: throughput, p99 latency, CPU per request and
# peak RSS against the dimension's points.
#
# Usage: gnuplot -e "rps='RPS.dat'; p99='P99.dat'; cpu='CPU.dat'; rss='RSS.dat'; out='OUT.png'" \
#                -e "heading='...'; xname='...'; lts='2 3 4 5'[; logx=1][; logrps=1][; single=X]" \
#                bench/scaling.gp
# Each .dat file: a header line "x label PROXY...", then one line per point in increasing order:
# the point (a number), its tick label (no spaces) and each proxy's figure ("-": none). lts: the
# line type of each proxy column, as in chart.gp's charts (direct 1, gateway 2, nginx 3, haproxy
# 4, caddy 5, floor 6: grey, its key "floor (bare fasthttp)"), so that each proxy keeps its colour. logx: the points on a log scale; logrps:
# throughput on a log scale too (when it falls by orders of magnitude, as with the body size);
# single: the files hold one point only, X (a smoke run): an x range around it.

set terminal pngcairo size 1200,900 font "sans,10"
set output out
set datafile missing "-"
# The key beside each panel: inside, it would hide the points that grow to the top right.
set key outside right top vertical
set grid xtics ytics
set xtics nomirror
set xlabel xname
if (exists("logx")) set logscale x
# Room left and right of the first and last point (and above the top one), no more: the x range
# is not widened to the next tic.
set autoscale xfix
if (exists("single")) set xrange [single * 0.5:single * 1.5]
set offsets graph 0.05, graph 0.05, graph 0.08, 0
n = words(lts)
# floor's colour and key label, as in chart.gp (the .dat headers hold one word per proxy).
set linetype 6 linecolor rgb "#808080"
# The first line of each file is its header (autotitle: also when the title is label()'s).
set key autotitle columnheader
label(s) = s eq "floor" ? "floor (bare fasthttp)" : s

set multiplot layout 2,2 title heading

set ylabel "req/s"
if (exists("logrps")) {
	set title "Throughput: successful requests/s (log scale, higher is better)"
	set logscale y
	set yrange [*:*]
	set offsets graph 0.05, graph 0.05, 0, 0
} else {
	set title "Throughput: successful requests/s (higher is better)"
	set yrange [0:*]
}
plot for [j=3:n + 2] rps using 1:j:xtic(2) with linespoints linetype int(word(lts, j - 2)) \
	linewidth 2 pointtype 7 title label(columnhead(j))

set title "p99 latency (log scale, lower is better)"
set ylabel "ms"
set logscale y
set yrange [*:*]
set offsets graph 0.05, graph 0.05, 0, 0
plot for [j=3:n + 2] p99 using 1:j:xtic(2) with linespoints linetype int(word(lts, j - 2)) \
	linewidth 2 pointtype 7 title label(columnhead(j))

set title "CPU per request: the proxy's user+system µs (lower is cheaper)"
set ylabel "µs/req"
unset logscale y
set yrange [0:*]
set offsets graph 0.05, graph 0.05, graph 0.08, 0
plot for [j=3:n + 2] cpu using 1:j:xtic(2) with linespoints linetype int(word(lts, j - 2)) \
	linewidth 2 pointtype 7 title label(columnhead(j))

set title "Peak RSS of the proxy's processes (lower is cheaper)"
set ylabel "MiB"
plot for [j=3:n + 2] rss using 1:j:xtic(2) with linespoints linetype int(word(lts, j - 2)) \
	linewidth 2 pointtype 7 title label(columnhead(j))

unset multiplot
