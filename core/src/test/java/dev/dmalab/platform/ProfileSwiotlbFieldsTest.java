package dev.dmalab.platform;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.kernel.KernelVersion;
import java.io.StringReader;
import org.junit.jupiter.api.Test;

/** The profile's swiotlb slots/areas/force stand for a swiotlb= parameter; one on the command line wins. */
class ProfileSwiotlbFieldsTest {
    private static final String YAML = String.join(
            "\n",
            "name: tiny-arm64",
            "arch: arm64",
            "cpus: 4",
            "memory:",
            "  ram: [{start: 0x40000000, size: 1G}]",
            "swiotlb: {slots: 16384, areas: 2, force: true}",
            "devices:",
            "  - {name: \"0000:00:01.0\", dma_mask: 64, coherent: true}",
            "");

    @Test
    void profileFieldsSizeAndForceThePool() {
        PlatformProfile p = ProfileLoader.parse("tiny.yaml", new StringReader(YAML));
        assertThat(p.swiotlbDefault()).isEqualTo("16384,2,force");
        Machine m = Machine.boot(p, KernelVersion.V6_12);
        assertThat(m.swiotlbGeometry().nslabs()).isEqualTo(16384);
        assertThat(m.swiotlbGeometry().nareas()).isEqualTo(2);
        assertThat(m.swiotlb().defaultMem().forceBounce()).isTrue();
        assertThat(m.kernel().printk().dmesg()).contains("software IO TLB: area num 2.");
    }

    @Test
    void aSwiotlbParameterOnTheCommandLineReplacesTheProfileFields() {
        PlatformProfile p = ProfileLoader.parse("tiny.yaml", new StringReader(YAML));
        Machine m = Machine.boot(p, KernelVersion.V6_12, Machine.BootOptions.DEFAULT.withCmdline("swiotlb=1024"));
        // 1024 slots, 4 possible CPUs -> 4 areas of 256 slots; not forced.
        assertThat(m.swiotlbGeometry().nslabs()).isEqualTo(1024);
        assertThat(m.swiotlbGeometry().nareas()).isEqualTo(4);
        assertThat(m.swiotlb().defaultMem().forceBounce()).isFalse();
    }
}
