package dev.dmalab.device;

/** The bus a device sits on; it decides defaults the bus core applies (e.g. PCI's segment boundary). */
public enum BusType {
    /** PCI / PCIe: {@code pci_device_add()} sets max_segment_size 64 KiB and segment boundary 0xffffffff. */
    PCI("pci"),
    /** Platform (device-tree / ACPI) devices. */
    PLATFORM("platform"),
    /** AMBA primecells. */
    AMBA("amba");

    private final String kernelName;

    BusType(String kernelName) {
        this.kernelName = kernelName;
    }

    public String kernelName() {
        return kernelName;
    }

    public static BusType parse(String text) {
        for (BusType b : values()) {
            if (b.kernelName.equals(text) || b.name().equalsIgnoreCase(text)) {
                return b;
            }
        }
        throw new IllegalArgumentException("unknown bus '" + text + "' (pci, platform or amba)");
    }
}
