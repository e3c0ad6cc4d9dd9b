# made by scripts/bench-report; gnuplot memory.gp in this directory
set terminal pngcairo noenhanced size 980,480 font "DejaVu Sans,11"
set output "memory.png"
set title "Memory per parked thread (median of the run)"
set style data histogram
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.5
set xtics font ",10"
set ylabel "KiB per thread"
set yrange [0:*]
set grid ytics
set key top left
plot "memory.dat" u 2:xtic(1) lc rgb "#1a9850" t "user RSS", "" u 3 lc rgb "#d73027" t "kernel stack", "" u 4 lc rgb "#fee08b" t "page tables"
