# made by scripts/bench-report; gnuplot costs.gp in this directory
set terminal pngcairo noenhanced size 860,480 font "DejaVu Sans,11"
set output "costs.png"
set title "Cost per operation (median; log scale, lower is better)"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y 10
set yrange [10:*]
set grid ytics
set ytics ("10 ns" 10, "100 ns" 100, "1 µs" 1000, "10 µs" 10000, "100 µs" 100000, "1 ms" 1000000)
set key below horizontal
plot "costs.dat" u 2:xtic(1) lc rgb "#1a9850" t "libgreen", "" u 3 lc rgb "#d73027" t "real threads, one CPU", "" u 4 lc rgb "#fc8d59" t "real threads, unpinned"
