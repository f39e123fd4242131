package dev.dmalab.platform;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.kernel.KernelVersion;
import java.io.StringReader;
import org.junit.jupiter.api.Test;

class KernelCmdlineTest {
    @Test
    void emptyAndBlank() {
        for (String s : new String[] {"", "   ", "\t\n"}) {
            KernelCmdline c = KernelCmdline.parse(s);
            assertThat(c.text()).isEmpty();
            assertThat(c.get("swiotlb")).isNull();
            assertThat(c.uninterpreted()).isEmpty();
        }
    }

    @Test
    void keysValuesAndFlags() {
        KernelCmdline c = KernelCmdline.parse("  console=ttyS0,115200  quiet swiotlb=16384,force\tloglevel=4 ");
        assertThat(c.text()).isEqualTo("console=ttyS0,115200  quiet swiotlb=16384,force\tloglevel=4");
        assertThat(c.get("swiotlb")).isEqualTo("16384,force");
        assertThat(c.get("quiet")).isEmpty();
        assertThat(c.get("console")).isEqualTo("ttyS0,115200");
        assertThat(c.get("nokaslr")).isNull();
        assertThat(c.uninterpreted()).containsExactly("console=ttyS0,115200", "quiet", "loglevel=4");
    }

    @Test
    void aValueMayContainEqualsAndMayBeEmpty() {
        KernelCmdline c = KernelCmdline.parse("ftrace_filter=a=b swiotlb=");
        assertThat(c.get("ftrace_filter")).isEqualTo("a=b");
        assertThat(c.get("swiotlb")).isEmpty();
    }

    @Test
    void laterParametersWin() {
        KernelCmdline c = KernelCmdline.parse("swiotlb=1024 quiet swiotlb=force");
        assertThat(c.get("swiotlb")).isEqualTo("force");
        assertThat(c.uninterpreted()).containsExactly("quiet");
    }

    @Test
    void appendedParametersWinAndTheTextKeepsBoth() {
        KernelCmdline c = KernelCmdline.parse("swiotlb=noforce a=1").append("swiotlb=force");
        assertThat(c.get("swiotlb")).isEqualTo("force");
        assertThat(c.text()).isEqualTo("swiotlb=noforce a=1 swiotlb=force");
        assertThat(KernelCmdline.parse("").append("").text()).isEmpty();
        assertThat(KernelCmdline.parse("").append("swiotlb=force").text()).isEqualTo("swiotlb=force");
        assertThat(KernelCmdline.parse("quiet").append("").text()).isEqualTo("quiet");
    }

    @Test
    void theRealCaptureCommandLineParses() {
        String real = "console=ttyAMA0 earlycon loglevel=8 rdinit=/init trace_buf_size=32M trace_event=dma:*,swiotlb:*"
                + " ftrace=function ftrace_filter=xen_swiotlb_*,dma_direct_alloc cap.run=arm64-native-swiotlb-force-32M"
                + " cap.port=18088 swiotlb=16384,force";
        KernelCmdline c = KernelCmdline.parse(real);
        assertThat(c.get("swiotlb")).isEqualTo("16384,force");
        assertThat(c.get("trace_event")).isEqualTo("dma:*,swiotlb:*");
        assertThat(c.uninterpreted()).hasSize(10).doesNotContain("swiotlb=16384,force");
    }

    @Test
    void bootCombinesTheProfileAndTheExtraCommandLine() {
        PlatformProfile p = ProfileLoader.parse(
                "c.yaml",
                new StringReader("name: c\narch: x86_64\ncmdline: \"quiet swiotlb=noforce\"\n"
                        + "memory:\n  ram: [{start: 0x0, size: 1G}]\n"
                        + "devices: [{name: d, dma_mask: 64}]\n"));
        assertThat(p.cmdline()).isEqualTo("quiet swiotlb=noforce");
        Machine plain = Machine.boot(p, KernelVersion.V6_12);
        assertThat(plain.cmdline().get("swiotlb")).isEqualTo("noforce");
        assertThat(plain.swiotlb().defaultMem().defpool()).isNull();
        Machine forced = Machine.boot(p, KernelVersion.V6_12, Machine.BootOptions.DEFAULT.withCmdline("swiotlb=force"));
        assertThat(forced.cmdline().text()).isEqualTo("quiet swiotlb=noforce swiotlb=force");
        assertThat(forced.swiotlb().defaultMem().defpool()).isNotNull();
        assertThat(BuiltInProfilesTest.dmesg(forced))
                .contains("Kernel command line: quiet swiotlb=noforce swiotlb=force")
                .contains("dmalab: parameters not modelled: quiet");
        assertThat(BuiltInProfilesTest.dmesg(Machine.boot(Platforms.builtIn("x86-q35"), KernelVersion.V6_12)))
                .contains("Kernel command line: ")
                .noneMatch(l -> l.startsWith("dmalab: parameters not modelled"));
    }
}
