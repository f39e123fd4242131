package dev.dmalab.iommuhw;

/**
 * A device access the IOMMU refused: it touched no memory. What VT-d logs as a DMAR fault ("DMAR: [DMA Read NO_PASID]
 * Request device [00:03.0] fault addr 0xffffd000 [fault reason 0x06] PTE Read access is not set") and SMMUv3 as an
 * event ({@code F_TRANSLATION}, {@code F_PERMISSION}).
 *
 * @param device the device's name
 * @param iova the bus address it used
 * @param write whether it was a write
 * @param reason why it was refused
 * @param timeNs simulated time of the access
 */
public record IommuFault(String device, long iova, boolean write, Reason reason, long timeNs) {
    /** Why a translation failed. */
    public enum Reason {
        /** No entry for the address: never mapped, or unmapped and invalidated. */
        NOT_PRESENT("translation fault: no entry"),
        /** The entry forbids the access (a write to a TO_DEVICE mapping, a read of a FROM_DEVICE one). */
        PERMISSION("permission fault"),
        /** Beyond the domain's address width. */
        ADDRESS_SIZE("address beyond the input address width"),
        /** The device's context blocks all DMA (a blocked domain). */
        BLOCKED("context blocks DMA");

        private final String text;

        Reason(String text) {
            this.text = text;
        }

        public String text() {
            return text;
        }
    }

    @Override
    public String toString() {
        return device + " " + (write ? "write" : "read") + " at 0x" + Long.toHexString(iova) + ": " + reason.text()
                + " (t=" + timeNs + " ns)";
    }
}
