package dev.dmalab.cli;

import dev.dmalab.matrix.Matrix;
import java.io.PrintWriter;
import java.util.function.LongSupplier;

/**
 * A one-line progress bar for a long run, redrawn in place with a carriage return: it appears only once the run has
 * taken longer than {@link #DELAY_NS} (a short run prints nothing) and is erased when the run ends, so that only
 * the results remain. The caller decides where it goes (stderr, and only on a terminal) and gives the clock.
 */
final class ProgressBar implements Matrix.Progress {
    /** How long a run goes before the bar appears: one second. */
    static final long DELAY_NS = 1_000_000_000L;

    private static final int WIDTH = 30;

    private final PrintWriter err;
    private final LongSupplier clockNs;
    private final String what;
    private final long startNs;
    private int drawnChars;

    /**
     * @param what the unit counted ({@code cells})
     * @param clockNs a monotonic clock in nanoseconds
     */
    ProgressBar(PrintWriter err, LongSupplier clockNs, String what) {
        this.err = err;
        this.clockNs = clockNs;
        this.what = what;
        this.startNs = clockNs.getAsLong();
    }

    @Override
    public void cellDone(int done, int total) {
        if (drawnChars == 0 && clockNs.getAsLong() - startNs < DELAY_NS) {
            return;
        }
        int filled = total == 0 ? WIDTH : (int) ((long) WIDTH * done / total);
        String line =
                "dmalab: [" + "#".repeat(filled) + " ".repeat(WIDTH - filled) + "] " + done + "/" + total + " " + what;
        err.print("\r" + line);
        err.flush();
        drawnChars = Math.max(drawnChars, line.length());
    }

    /** Erases the bar if it was drawn. */
    void finish() {
        if (drawnChars > 0) {
            err.print("\r" + " ".repeat(drawnChars) + "\r");
            err.flush();
            drawnChars = 0;
        }
    }
}
