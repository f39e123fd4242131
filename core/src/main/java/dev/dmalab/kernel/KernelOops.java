package dev.dmalab.kernel;

/**
 * A modelled kernel crash. Thrown only by {@link Kernel#deref} and {@link Kernel#bug}: it unwinds the modelled
 * kernel to the workload runner, which reports it as the outcome {@code oops}. (A Java {@code
 * NullPointerException} is always a dmalab bug, never a modelled crash.)
 */
public final class KernelOops extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient OopsReport report;

    public KernelOops(OopsReport report) {
        super(report.summary(), null, false, true);
        this.report = report;
    }

    public OopsReport report() {
        return report;
    }
}
