package dev.dmalab.scenario;

/** How a workload run ended. */
public enum Outcome {
    /** Everything the workload checked held. */
    OK,
    /** The modelled kernel crashed (NULL dereference, BUG). */
    OOPS,
    /** The workload ran but found wrong data, or a DMA operation failed. */
    FAILED,
    /** The workload does not apply to this platform and kernel (no device it needs, a kernel without the feature). */
    UNSUPPORTED;

    /** The lower-case name used in output ({@code ok}, {@code oops}, {@code failed}). */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
