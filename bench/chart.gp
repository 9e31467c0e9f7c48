# chart.gp - gnuplot script of bench/report.sh: panels of bars, one group of bars per scenario,
# one bar per proxy: throughput, p99 latency and, when given, the extra upstream requests.
#
# Usage: gnuplot -e "rps='RPS.dat'; p99='P99.dat'; out='OUT.png'; heading='...'; \
#                    scenarios='clean kill ...'; nproxies=6[; extra='EXTRA.dat'][; skip=1]" bench/chart.gp
# Each .dat file: a header line "scenario PROXY...", then one line per scenario of `scenarios`
# (nproxies proxies); "-" marks a proxy without a run in that scenario. skip: how many proxies
# of "direct gateway nginx haproxy caddy floor" the files leave out before their first, so that
# each proxy keeps its colour across charts (floor, line type 6, grey: the reference, not a
# contender; its key says "floor (bare fasthttp)").

panels = exists("extra") ? 3 : 2
set terminal pngcairo size 1100,(panels * 450) font "sans,10"
set output out
set datafile missing "-"
set style fill solid 0.85 border -1
set key outside right top vertical
set grid ytics
set xtics nomirror scale 0
ns = words(scenarios)
if (!exists("skip")) skip = 0
set xrange [-0.6:ns - 0.4]
# floor's colour and key label (the .dat headers hold one word per proxy).
set linetype 6 linecolor rgb "#808080"
# The first line of each file is its header (autotitle: also when the title is label()'s).
set key autotitle columnheader
label(s) = s eq "floor" ? "floor (bare fasthttp)" : s

# Bar j (2..nproxies+1, one per proxy) of row r (0..ns-1, one per scenario) sits at
# r + (j - 2 - (nproxies - 1) / 2) * w: the group is centred on r.
w = 0.85 / nproxies
x(j) = column(0) + (j - 2 - (nproxies - 1) / 2.0) * w
set for [r=0:ns - 1] xtics add (word(scenarios, r + 1) r)

set multiplot layout panels,1 title heading

set title "Throughput: successful requests/s (higher is better)"
set ylabel "req/s"
set yrange [0:*]
set offsets 0, 0, graph 0.05, 0
plot for [j=2:nproxies + 1] rps using (x(j)):j:(w) with boxes linetype (j - 1 + skip) title label(columnhead(j))

set title "p99 latency (log scale, lower is better)"
set ylabel "ms"
set logscale y
set yrange [0.1:*]
set offsets 0, 0, 0, 0
plot for [j=2:nproxies + 1] p99 using (x(j)):j:(w) with boxes linetype (j - 1 + skip) title label(columnhead(j))

if (exists("extra")) {
	set title "Extra upstream requests: (upstream - completed) / completed (retries, hedges; lower is cheaper)"
	set ylabel "%"
	unset logscale y
	set yrange [*:*]
	set offsets 0, 0, graph 0.05, graph 0.05
	set xzeroaxis
	plot for [j=2:nproxies + 1] extra using (x(j)):j:(w) with boxes linetype (j - 1 + skip) title label(columnhead(j))
}

unset multiplot
