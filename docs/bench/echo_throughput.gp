# made by scripts/bench-report; gnuplot echo_throughput.gp in this directory
set terminal pngcairo noenhanced size 860,480 font "DejaVu Sans,11"
set grid
set key top right
set logscale x 10
set xlabel "concurrent connections (64-byte ping-pong, server on one CPU)"
set xtics ("100" 100, "1,000" 1000, "10,000" 10000, "19,000" 19000)
set xrange [70:26600]
set output "echo_throughput.png"
set key bottom left
set title "Echo round trips per second (median of the run)"
set ylabel "round trips / s"
set yrange [0:*]
set format y "%.0s%c"
plot "echo.dat" u 1:2 w lp lw 2 pt 7 lc rgb "#1a9850" title "echo_server under libgreen", "echo.dat" u 1:3 w lp lw 2 pt 5 lc rgb "#d73027" title "echo_server on real threads", "echo.dat" u 1:4 w lp lw 2 pt 9 lc rgb "#4575b4" title "epoll_echo (hand-written epoll)"
