package dev.dmalab.platform;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.kernel.Feature;
import dev.dmalab.kernel.KernelVersion;
import dev.dmalab.kernel.Printk;
import dev.dmalab.testing.Captures;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/** The four built-in profiles boot to the machines they describe; where a real capture exists, dmesg agrees with it. */
class BuiltInProfilesTest {

    static Machine boot(String platform, KernelVersion v, String cmdline) {
        return Machine.boot(Platforms.builtIn(platform), v, Machine.BootOptions.DEFAULT.withCmdline(cmdline));
    }

    static Machine boot(String platform, KernelVersion v) {
        return boot(platform, v, "");
    }

    /** The model's dmesg, without timestamps. */
    static List<String> dmesg(Machine m) {
        List<String> out = new ArrayList<>();
        for (Printk.Line l : m.kernel().printk().lines()) {
            out.add(l.text());
        }
        return out;
    }

    /** A capture's dmesg.txt without the "[    0.000000] " timestamps. */
    static List<String> captureDmesg(String capture) {
        List<String> out = new ArrayList<>();
        for (String l : Captures.read(capture, "dmesg.txt").split("\n")) {
            out.add(l.replaceFirst("^\\[\\s*\\d+\\.\\d+\\] ", ""));
        }
        return out;
    }

    static List<String> matching(List<String> lines, Predicate<String> p) {
        return lines.stream().filter(p).toList();
    }

    /** The zone lines after "Zone ranges:" (DMA/DMA32/Normal, as many as printed). */
    static List<String> zoneRanges(List<String> lines) {
        int i = lines.indexOf("Zone ranges:");
        assertThat(i).as("a 'Zone ranges:' line").isNotNegative();
        List<String> out = new ArrayList<>();
        for (int j = i + 1; j < lines.size() && lines.get(j).matches("  (DMA|DMA32|Normal) +.*"); j++) {
            out.add(lines.get(j));
        }
        return out;
    }

    static boolean isSwiotlbLine(String l) {
        return l.startsWith("software IO TLB: ");
    }

    static boolean isAtomicPoolLine(String l) {
        return l.startsWith("DMA: preallocated ");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Zones

    @Test
    void x86q35ZonesAreTheCapturedOnes() {
        List<String> model = zoneRanges(dmesg(boot("x86-q35", KernelVersion.V6_12)));
        assertThat(model)
                .containsExactly(
                        "  DMA      [mem 0x0000000000001000-0x0000000000ffffff]",
                        "  DMA32    [mem 0x0000000001000000-0x000000007ffd0fff]",
                        "  Normal   empty");
        assertThat(model).isEqualTo(zoneRanges(captureDmesg("x86-q35/direct-2g")));
        assertThat(model).isEqualTo(zoneRanges(captureDmesg("x86-q35/swiotlb-force")));
    }

    @Test
    void x86ZonesDoNotDependOnTheKernelVersion() {
        List<String> z612 = zoneRanges(dmesg(boot("x86-q35", KernelVersion.V6_12)));
        for (KernelVersion v : KernelVersion.builtIn()) {
            assertThat(zoneRanges(dmesg(boot("x86-q35", v)))).as(v.name()).isEqualTo(z612);
        }
    }

    @Test
    void arm64Virt612HasADmaZoneOverAllRamAndAnEmptyDma32() {
        List<String> model = zoneRanges(dmesg(boot("arm64-virt", KernelVersion.V6_12)));
        assertThat(model)
                .containsExactly(
                        "  DMA      [mem 0x0000000040000000-0x00000000bfffffff]",
                        "  DMA32    empty",
                        "  Normal   empty");
        assertThat(model).isEqualTo(zoneRanges(captureDmesg("arm64-virt/arm64-native")));
        assertThat(model).isEqualTo(zoneRanges(captureDmesg("arm64-virt/arm64-native-swiotlb-force-32M")));
    }

    /** arm64 had only ZONE_DMA32 before 5.5. */
    @Test
    void arm64BeforeFiveFiveHasOnlyDma32() {
        for (KernelVersion v : KernelVersion.builtIn()) {
            if (v.has(Feature.ARM64_ZONE_DMA)) {
                continue;
            }
            assertThat(zoneRanges(dmesg(boot("arm64-virt", v))))
                    .as(v.name())
                    .containsExactly("  DMA32    [mem 0x0000000040000000-0x00000000bfffffff]", "  Normal   empty");
            assertThat(zoneRanges(dmesg(boot("rpi4", v))))
                    .as(v.name())
                    .containsExactly("  DMA32    [mem 0x0000000000000000-0x000000007fffffff]", "  Normal   empty");
        }
        assertThat(KernelVersion.V5_0.has(Feature.ARM64_ZONE_DMA)).isFalse();
    }

    @Test
    void rpi4HasAOneGibDmaZone() {
        assertThat(zoneRanges(dmesg(boot("rpi4", KernelVersion.V6_12))))
                .containsExactly(
                        "  DMA      [mem 0x0000000000000000-0x000000003fffffff]",
                        "  DMA32    [mem 0x0000000040000000-0x000000007fffffff]",
                        "  Normal   empty");
        assertThat(Platforms.builtIn("rpi4").zoneDmaLimit()).isEqualTo(1L << 30);
    }

    @Test
    void arm64NoncoherentPutsTheHighBankInNormal() {
        assertThat(zoneRanges(dmesg(boot("arm64-noncoherent", KernelVersion.V6_12))))
                .containsExactly(
                        "  DMA      [mem 0x0000000080000000-0x00000000ffffffff]",
                        "  DMA32    empty",
                        "  Normal   [mem 0x0000000100000000-0x00000008ffffffff]");
    }

    // ---------------------------------------------------------------------------------------------------------
    // swiotlb

    @Test
    void arm64VirtSwiotlbLinesAreTheCapturedOnes() {
        Machine m = boot("arm64-virt", KernelVersion.V6_12);
        List<String> model = matching(dmesg(m), BuiltInProfilesTest::isSwiotlbLine);
        assertThat(model)
                .containsExactly(
                        "software IO TLB: SWIOTLB bounce buffer size adjusted to 2MB",
                        "software IO TLB: area num 2.",
                        "software IO TLB: mapped [mem 0x00000000b9600000-0x00000000b9800000] (2MB)");
        assertThat(model)
                .isEqualTo(matching(captureDmesg("arm64-virt/arm64-native"), BuiltInProfilesTest::isSwiotlbLine));
        assertThat(m.swiotlbGeometry().base()).isEqualTo(0xb9600000L);
        assertThat(m.swiotlbGeometry().nslabs()).isEqualTo(1024);
        assertThat(m.swiotlbGeometry().nareas()).isEqualTo(2);
    }

    @Test
    void arm64VirtWithSwiotlb16384ForceIsTheForce32mCapture() {
        String capture = "arm64-virt/arm64-native-swiotlb-force-32M";
        String param = Captures.cmdlineParam(capture, "swiotlb");
        assertThat(param).isEqualTo("swiotlb=16384,force");
        Machine m = boot("arm64-virt", KernelVersion.V6_12, param);
        List<String> model = matching(dmesg(m), BuiltInProfilesTest::isSwiotlbLine);
        assertThat(model)
                .containsExactly(
                        "software IO TLB: area num 2.",
                        "software IO TLB: mapped [mem 0x00000000b7800000-0x00000000b9800000] (32MB)");
        assertThat(model).isEqualTo(matching(captureDmesg(capture), BuiltInProfilesTest::isSwiotlbLine));
        assertThat(m.swiotlbGeometry().nslabs()).isEqualTo(16384);
        assertThat(m.swiotlbGeometry().base()).isEqualTo(0xb7800000L);
    }

    @Test
    void x86SwiotlbLinesAreTheCapturedOnes() {
        // direct-2g: 2 GiB needs no pool, nothing printed
        assertThat(matching(dmesg(boot("x86-q35", KernelVersion.V6_12)), BuiltInProfilesTest::isSwiotlbLine))
                .isEqualTo(matching(captureDmesg("x86-q35/direct-2g"), BuiltInProfilesTest::isSwiotlbLine))
                .hasSize(0);
        // swiotlb=force: only the area line (x86 prints the pool only when it needs it for addressing)
        Machine force = boot("x86-q35", KernelVersion.V6_12, "swiotlb=force");
        assertThat(matching(dmesg(force), BuiltInProfilesTest::isSwiotlbLine))
                .containsExactly("software IO TLB: area num 1.")
                .isEqualTo(matching(captureDmesg("x86-q35/swiotlb-force"), BuiltInProfilesTest::isSwiotlbLine));
        assertThat(force.swiotlbGeometry().nslabs()).isEqualTo(32768);
        // the capture's first bounce is at 0x79800000 (validated-swiotlb §2): memblock puts the pool there
        assertThat(force.swiotlbGeometry().base()).isEqualTo(0x79800000L);
    }

    @Test
    void noSwiotlbPoolWhereNothingNeedsIt() {
        assertThat(boot("x86-q35", KernelVersion.V6_12).swiotlbGeometry().base())
                .isEqualTo(-1);
        assertThat(boot("x86-q35", KernelVersion.V6_12).swiotlb().defaultMem().defpool())
                .isNull();
        // arm64 6.12 always keeps a small pool for unaligned kmalloc buffers (the "adjusted to" line)
        assertThat(boot("arm64-virt", KernelVersion.V6_12)
                        .swiotlb()
                        .defaultMem()
                        .defpool())
                .isNotNull();
        // arm64-noncoherent has RAM above 4 GiB: a full 64 MiB pool below the DMA limit
        Machine nc = boot("arm64-noncoherent", KernelVersion.V6_12);
        assertThat(nc.swiotlbGeometry().nslabs()).isEqualTo(32768);
        assertThat(nc.swiotlbGeometry().base() + (64L << 20)).isLessThanOrEqualTo(1L << 32);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Atomic pools

    @Test
    void atomicPoolLinesAreTheCapturedOnesInOrder() {
        List<String> expected = List.of(
                "DMA: preallocated 256 KiB GFP_KERNEL pool for atomic allocations",
                "DMA: preallocated 256 KiB GFP_KERNEL|GFP_DMA pool for atomic allocations",
                "DMA: preallocated 256 KiB GFP_KERNEL|GFP_DMA32 pool for atomic allocations");
        String[][] cases = {
            {"x86-q35", "", "x86-q35/direct-2g"},
            {"x86-q35", "swiotlb=force", "x86-q35/swiotlb-force"},
            {"x86-q35", "", "x86-q35/iommu-strict"},
            {"arm64-virt", "", "arm64-virt/arm64-native"},
            {"arm64-virt", "swiotlb=16384,force", "arm64-virt/arm64-native-swiotlb-force-32M"},
        };
        for (String[] c : cases) {
            List<String> model =
                    matching(dmesg(boot(c[0], KernelVersion.V6_12, c[1])), BuiltInProfilesTest::isAtomicPoolLine);
            assertThat(model).as(Arrays.toString(c)).isEqualTo(expected);
            assertThat(model).as(c[2]).isEqualTo(matching(captureDmesg(c[2]), BuiltInProfilesTest::isAtomicPoolLine));
        }
    }

    /** The boot log's order is the kernel's: zones, then swiotlb, then the atomic pools. */
    @Test
    void bootLogOrderFollowsTheKernels() {
        for (String capture : List.of("arm64-virt/arm64-native", "arm64-virt/arm64-native-swiotlb-force-32M")) {
            List<String> real = captureDmesg(capture);
            List<String> model =
                    dmesg(boot("arm64-virt", KernelVersion.V6_12, Captures.cmdlineParam(capture, "swiotlb")));
            for (List<String> lines : List.of(real, model)) {
                int zones = lines.indexOf("Zone ranges:");
                int tlb = firstIndex(lines, BuiltInProfilesTest::isSwiotlbLine);
                int pools = firstIndex(lines, BuiltInProfilesTest::isAtomicPoolLine);
                assertThat(zones).isNotNegative().isLessThan(tlb);
                assertThat(tlb).isLessThan(pools);
            }
        }
    }

    private static int firstIndex(List<String> lines, Predicate<String> p) {
        for (int i = 0; i < lines.size(); i++) {
            if (p.test(lines.get(i))) {
                return i;
            }
        }
        return -1;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Profiles themselves

    @Test
    void builtInProfilesDescribeTheirMachines() {
        assertThat(Platforms.all()).extracting(PlatformProfile::name).containsExactlyElementsOf(Platforms.BUILT_IN);
        PlatformProfile x86 = Platforms.builtIn("x86-q35");
        assertThat(x86.totalRamBytes()).isEqualTo(0x9e000L + 0x7fed1000L);
        assertThat(x86.devices())
                .extracting(PlatformProfile.DeviceSpec::name)
                .containsExactly(
                        "0000:00:02.0", "0000:00:03.0", "0000:00:04.0", "0000:00:05.0", "0000:00:06.0", "0000:00:1f.2");
        assertThat(x86.devices().get(3).dmaMask()).isEqualTo(0xffffffffL);
        PlatformProfile virt = Platforms.builtIn("arm64-virt");
        assertThat(virt.cpus()).isEqualTo(2);
        assertThat(virt.devices()).allMatch(d -> Boolean.TRUE.equals(d.coherent()));
        assertThat(Platforms.builtIn("rpi4").devices()).allMatch(d -> Boolean.FALSE.equals(d.coherent()));
        assertThat(Platforms.builtIn("arm64-noncoherent").devices()).allMatch(d -> Boolean.FALSE.equals(d.coherent()));
        for (PlatformProfile p : Platforms.all()) {
            assertThat(p.file()).isEqualTo(p.name() + ".yaml");
            // the seed's machines default to the kernel of the report; every other one to 6.12
            boolean seed = p.name().equals("juno-r2-xen-dom0") || p.name().equals("arm32-xen-dom0");
            assertThat(p.defaultKernel()).isEqualTo(seed ? KernelVersion.V5_0_RC2 : KernelVersion.V6_12);
            assertThat(p.isXenDom0())
                    .isEqualTo(p.name().endsWith("-xen-dom0") || p.name().endsWith("-xen-pv-dom0"));
            assertThat(Platforms.text(p.name())).startsWith("#").contains("name: " + p.name());
        }
    }

    /** The capture's device list names the devices the x86 and arm64 profiles model. */
    @Test
    void profilesHaveTheCapturedDeviceNames() {
        String x86 = Captures.read("x86-q35/direct-2g", "devices.txt");
        for (PlatformProfile.DeviceSpec d : Platforms.builtIn("x86-q35").devices()) {
            assertThat(x86).as(d.name()).contains(d.name());
        }
        String arm = Captures.read("arm64-virt/arm64-native", "devices.txt");
        for (PlatformProfile.DeviceSpec d : Platforms.builtIn("arm64-virt").devices()) {
            assertThat(arm).as(d.name()).contains(d.name());
        }
    }

    @Test
    void lookupByNameOrPath() {
        assertThat(Platforms.load("rpi4").name()).isEqualTo("rpi4");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Platforms.load("nope"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown platform 'nope'")
                .hasMessageContaining("x86-q35, x86-q35-vtd, x86-q35-vtd-lazy, x86-q35-vtd-pt, arm64-virt");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Platforms.load("/no/such/dir/p.yaml"))
                .isExactlyInstanceOf(InputException.class)
                .hasMessage("/no/such/dir/p.yaml: no such profile file");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Platforms.text("/no/such/dir/p.yaml"))
                .isExactlyInstanceOf(InputException.class)
                .hasMessage("/no/such/dir/p.yaml: no such profile file");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Platforms.text("nope"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown platform 'nope'");
    }
}
