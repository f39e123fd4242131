package dev.dmalab.matrix;

/**
 * How one cell of a matrix ended. When several apply, the first in this order wins: an Oops ends the run, so what
 * it counted is partial; a failed swiotlb mapping is the cause of what goes wrong after it (the driver's error path
 * runs, data never arrives), and its cure is a bigger pool, so it is named before the findings and failures it
 * brings; checker findings name the driver's mistake, so they come before a bare wrong-data failure.
 */
public enum CellOutcome {
    /** The modelled kernel crashed. */
    OOPS("oops"),
    /** swiotlb could not map a buffer (its pool was full, or no slot fit): {@code swiotlb_failed_maps > 0}. */
    POOL_EXHAUSTED("pool exhausted"),
    /** The DMA checker or the kernel's own checks reported something. */
    FINDINGS("findings"),
    /** Wrong data, or a DMA operation failed, without a finding that names why. */
    FAILED("failed"),
    /** Everything held. */
    OK("ok"),
    /** The machine cannot boot with this kernel, or the workload does not apply to it. */
    UNSUPPORTED("unsupported");

    private final String label;

    CellOutcome(String label) {
        this.label = label;
    }

    /** The name used in output ({@code pool exhausted}). */
    public String label() {
        return label;
    }

    /** Whether this outcome makes a matrix fail (exit status 1): everything but ok and unsupported. */
    public boolean failing() {
        return this != OK && this != UNSUPPORTED;
    }
}
