package dev.dmalab.driver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.dmalab.device.Device;
import dev.dmalab.dma.DmaEvent;
import dev.dmalab.dma.Gfp;
import dev.dmalab.kernel.KernelFunction;
import dev.dmalab.kernel.KernelOops;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.platform.Machine;
import dev.dmalab.testing.TestMachines;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.Test;

/**
 * The driver core: registration binds every matching unbound PCI device in bus order; a failed probe and a detach
 * release the device's managed DMA allocations newest first; a crash in probe shows the kernel's probe chain, with
 * the frames each version inlines left out.
 */
class DriverCoreTest {
    /** A driver whose probe is given by the test, claiming the devices whose names it lists. */
    static final class TestDriver extends PciDriver {
        final List<String> claims;
        final ToIntFunction<Device> probe;
        final List<String> log = new ArrayList<>();

        TestDriver(List<String> claims, ToIntFunction<Device> probe) {
            super("testdrv");
            this.claims = claims;
            this.probe = probe;
        }

        @Override
        public boolean matches(Device dev) {
            return claims.contains(dev.name());
        }

        @Override
        @KernelFunction("testdrv_probe")
        public int probe(Device dev) {
            log.add("probe " + dev.name());
            return probe.applyAsInt(dev);
        }

        @Override
        public void remove(Device dev) {
            log.add("remove " + dev.name());
        }
    }

    private static DriverCore core(Machine m) {
        return new DriverCore(m.kernel(), m.dma(), m.devices());
    }

    @Test
    void registrationProbesEveryMatchingDeviceInBusOrderOnce() {
        Machine m = TestMachines.boot("x86-q35", KernelVersion.V6_12);
        DriverCore core = core(m);
        TestDriver drv = new TestDriver(List.of("0000:00:04.0", "0000:00:02.0"), d -> 0);
        assertThat(core.pciRegisterDriver(drv)).isZero();
        assertThat(drv.log).containsExactly("probe 0000:00:02.0", "probe 0000:00:04.0");
        assertThat(core.driverOf(m.device("0000:00:02.0"))).isSameAs(drv);
        assertThat(m.device("0000:00:04.0").driverName()).isEqualTo("testdrv");
        assertThat(core.driverOf(m.device("0000:00:03.0"))).isNull();
        core.pciRegisterDriver(drv);
        assertThat(drv.log).as("bound devices are not probed again").hasSize(2);
    }

    @Test
    void aFailedProbeReleasesWhatItAllocatedAndUnbinds() {
        Machine m = TestMachines.boot("arm64-virt", KernelVersion.V6_12);
        Device dev = m.device("0000:00:03.0");
        String before = dev.driverName();
        long free = m.memory().pages().totalFreePages();
        DriverCore core = core(m);
        TestDriver drv = new TestDriver(List.of(dev.name()), d -> {
            long[] h = new long[1];
            m.dma().dmamAllocCoherent(d, 4096, h, Gfp.GFP_KERNEL);
            m.dma().dmamAllocCoherent(d, 65536, h, Gfp.GFP_KERNEL);
            return -12; // -ENOMEM
        });
        core.pciRegisterDriver(drv);
        assertThat(m.dma().devres().recordsOf(dev)).isEmpty();
        assertThat(m.memory().pages().totalFreePages()).isEqualTo(free);
        assertThat(core.driverOf(dev)).isNull();
        assertThat(dev.driverName()).isEqualTo(before);
        assertThat(m.kernel().printk().dmesg()).contains("testdrv: probe of 0000:00:03.0 failed with error -12");
    }

    @Test
    void detachCallsRemoveThenFreesTheManagedAllocationsNewestFirst() {
        Machine m = TestMachines.boot("arm64-virt", KernelVersion.V6_12);
        Device dev = m.device("0000:00:03.0");
        long[] order = new long[2];
        DriverCore core = core(m);
        TestDriver drv = new TestDriver(List.of(dev.name()), d -> {
            long[] h = new long[1];
            order[0] = m.dma().dmamAllocCoherent(d, 4096, h, Gfp.GFP_KERNEL);
            order[1] = m.dma().dmamAllocCoherent(d, 8192, h, Gfp.GFP_KERNEL);
            return 0;
        });
        core.pciRegisterDriver(drv);
        List<Long> freed = new ArrayList<>();
        m.events().addListener(e -> {
            if (e instanceof DmaEvent.Free f) {
                freed.add(f.cpuAddr());
            }
        });
        assertThat(core.releaseDriver(dev)).isEqualTo(2);
        assertThat(drv.log).endsWith("remove 0000:00:03.0");
        assertThat(freed).containsExactly(order[1], order[0]);
        assertThat(core.driverOf(dev)).isNull();
        assertThat(core.releaseDriver(dev)).as("nothing bound any more").isZero();
    }

    private static List<String> crashInProbe(KernelVersion v) {
        Machine m = TestMachines.boot("arm64-virt", v);
        Device dev = m.device("0000:00:03.0");
        TestDriver drv = new TestDriver(List.of(dev.name()), d -> m.kernel().deref(null, 0x10) == null ? 0 : 1);
        KernelOops oops = catchThrowableOfType(KernelOops.class, () -> core(m).pciRegisterDriver(drv));
        return oops.report().callTrace();
    }

    @Test
    void aCrashInProbeShowsTheProbeChainAsEachVersionCompiledIt() {
        assertThat(crashInProbe(KernelVersion.V5_0))
                .containsExactly(
                        "testdrv_probe",
                        "pci_device_probe",
                        "really_probe",
                        "driver_probe_device",
                        "__driver_attach",
                        "bus_for_each_dev",
                        "driver_attach",
                        "bus_add_driver",
                        "driver_register",
                        "__pci_register_driver");
        assertThat(crashInProbe(KernelVersion.V6_12))
                .containsExactly(
                        "testdrv_probe",
                        "pci_call_probe",
                        "pci_device_probe",
                        "really_probe",
                        "__driver_probe_device",
                        "driver_probe_device",
                        "__driver_attach",
                        "bus_for_each_dev",
                        "driver_attach",
                        "bus_add_driver",
                        "driver_register",
                        "__pci_register_driver");
    }
}
