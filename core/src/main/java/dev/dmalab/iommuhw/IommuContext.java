package dev.dmalab.iommuhw;

/**
 * A device's context entry in its IOMMU (VT-d context/PASID entry, SMMUv3 stream table entry): whether its DMA is
 * translated through a domain's tables, passed through untranslated (an identity domain, {@code iommu=pt}), or
 * blocked. The device's bus-master engine calls {@link #translate} for every access.
 */
public final class IommuContext {
    /** What the context does with the device's accesses. */
    public enum Kind {
        TRANSLATED,
        PASSTHROUGH,
        BLOCKED
    }

    private final IommuUnit unit;
    private final String device;
    private Kind kind;
    private IoPageTable table;

    IommuContext(IommuUnit unit, String device, Kind kind, IoPageTable table) {
        this.unit = unit;
        this.device = device;
        set(kind, table);
    }

    /** Points the context at another domain (an attach). */
    public void set(Kind kind, IoPageTable table) {
        if ((kind == Kind.TRANSLATED) != (table != null)) {
            throw new IllegalArgumentException("a translated context needs a table, the others none");
        }
        this.kind = kind;
        this.table = table;
    }

    public Kind kind() {
        return kind;
    }

    /** The domain's tables, or null when not translated. */
    public IoPageTable table() {
        return table;
    }

    public IommuUnit unit() {
        return unit;
    }

    public String device() {
        return device;
    }

    /**
     * The physical address a device access at {@code iova} reaches, or -1 when the IOMMU refuses it (a fault is
     * then recorded with the simulated time).
     */
    public long translate(long iova, boolean write) {
        return unit.translate(this, iova, write);
    }
}
