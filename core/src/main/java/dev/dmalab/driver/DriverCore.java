package dev.dmalab.driver;

import dev.dmalab.device.BusType;
import dev.dmalab.device.Device;
import dev.dmalab.dma.DmaApi;
import dev.dmalab.kernel.Kernel;
import dev.dmalab.kernel.KernelFunction;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The driver core for the PCI bus ({@code drivers/base/driver.c}, {@code bus.c}, {@code dd.c}; {@code
 * drivers/pci/pci-driver.c}): registering a driver attaches it to every matching unbound device, in bus order, by
 * the same chain of functions the kernel runs — which is what an Oops during probe shows as its call trace.
 *
 * <p>{@code __pci_device_probe}, {@code pci_call_probe} and {@code local_pci_probe} are folded into {@code
 * pci_device_probe} up to 5.18 (the NUMA-node test picks the direct call to {@code local_pci_probe}, and the
 * compiler inlines the chain — as the seed's trace shows); 5.19+ builds keep {@code pci_call_probe} out of line.
 * 5.15 split {@code __driver_probe_device} out of {@code driver_probe_device}. A failed probe releases the device's
 * managed resources ({@code devres_release_all}) and is reported as the kernel reports it.
 */
public final class DriverCore {
    private final Kernel kernel;
    private final DmaApi dma;
    private final List<Device> devices;
    private final Map<String, PciDriver> bound = new LinkedHashMap<>();

    public DriverCore(Kernel kernel, DmaApi dma, Collection<Device> devices) {
        this.kernel = kernel;
        this.dma = dma;
        this.devices = new ArrayList<>(devices);
    }

    /** The driver bound to {@code dev}, or null. */
    public PciDriver driverOf(Device dev) {
        return bound.get(dev.name());
    }

    /** {@code pci_register_driver(drv)}. */
    @KernelFunction("__pci_register_driver")
    public int pciRegisterDriver(PciDriver drv) {
        return driverRegister(drv);
    }

    @KernelFunction("driver_register")
    private int driverRegister(PciDriver drv) {
        return busAddDriver(drv);
    }

    @KernelFunction("bus_add_driver")
    private int busAddDriver(PciDriver drv) {
        return driverAttach(drv);
    }

    @KernelFunction("driver_attach")
    private int driverAttach(PciDriver drv) {
        return busForEachDev(drv);
    }

    /** {@code bus_for_each_dev(&pci_bus_type, NULL, drv, __driver_attach)}. */
    @KernelFunction("bus_for_each_dev")
    private int busForEachDev(PciDriver drv) {
        for (Device dev : devices) {
            if (dev.bus() != BusType.PCI) {
                continue;
            }
            int rc = driverAttachOne(dev, drv);
            if (rc != 0) {
                return rc;
            }
        }
        return 0;
    }

    /** {@code __driver_attach}: match, then probe an unbound device (a probe error does not stop the walk). */
    @KernelFunction("__driver_attach")
    private int driverAttachOne(Device dev, PciDriver drv) {
        if (!drv.matches(dev) || bound.containsKey(dev.name())) {
            return 0;
        }
        driverProbeDevice(drv, dev);
        return 0;
    }

    @KernelFunction("driver_probe_device")
    private int driverProbeDevice(PciDriver drv, Device dev) {
        return driverProbeDeviceInner(drv, dev);
    }

    @KernelFunction(value = "__driver_probe_device", inlineBefore = "5.15")
    private int driverProbeDeviceInner(PciDriver drv, Device dev) {
        return reallyProbe(dev, drv);
    }

    @KernelFunction("really_probe")
    private int reallyProbe(Device dev, PciDriver drv) {
        bound.put(dev.name(), drv);
        String before = dev.driverName();
        dev.setDriverName(drv.name());
        int rc = pciDeviceProbe(dev, drv);
        if (rc != 0) {
            dma.devresReleaseAll(dev);
            bound.remove(dev.name());
            dev.setDriverName(before);
            kernel.printk().warn(drv.name() + ": probe of " + dev.name() + " failed with error " + rc);
        }
        return rc;
    }

    @KernelFunction("pci_device_probe")
    private int pciDeviceProbe(Device dev, PciDriver drv) {
        return pciCallProbe(dev, drv);
    }

    @KernelFunction(value = "pci_call_probe", inlineBefore = "5.19")
    private int pciCallProbe(Device dev, PciDriver drv) {
        return localPciProbe(dev, drv);
    }

    @KernelFunction(value = "local_pci_probe", inline = true)
    private int localPciProbe(Device dev, PciDriver drv) {
        return drv.probe(dev);
    }

    /** {@code device_release_driver(dev)}: {@code ->remove}, then the managed resources, newest first. */
    @KernelFunction("device_release_driver")
    public int releaseDriver(Device dev) {
        PciDriver drv = bound.remove(dev.name());
        if (drv == null) {
            return 0;
        }
        drv.remove(dev);
        int released = dma.devresReleaseAll(dev);
        dev.setDriverName(null); // device_unbind_cleanup(): dev->driver = NULL before BUS_NOTIFY_UNBOUND_DRIVER
        dma.driverUnbound(dev, drv.name());
        return released;
    }
}
