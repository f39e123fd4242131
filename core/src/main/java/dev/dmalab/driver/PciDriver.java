package dev.dmalab.driver;

import dev.dmalab.device.Device;

/** {@code struct pci_driver}: a name, the devices it claims (its {@code id_table}), {@code probe} and {@code remove}. */
public abstract class PciDriver {
    private final String name;

    protected PciDriver(String name) {
        this.name = name;
    }

    /** {@code drv->name} (also what {@code dev_printk} shows for a bound device). */
    public final String name() {
        return name;
    }

    /** {@code pci_match_device}: whether the driver's id table claims {@code dev}. */
    public abstract boolean matches(Device dev);

    /** {@code ->probe}: 0 or a negative errno. */
    public abstract int probe(Device dev);

    /** {@code ->remove}. */
    public void remove(Device dev) {}
}
