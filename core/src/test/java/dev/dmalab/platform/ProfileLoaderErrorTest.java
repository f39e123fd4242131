package dev.dmalab.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every mistake in a profile is exactly one {@link InputException} whose message is {@code file:line: field:
 * reason}, with the line of the offending text and the dotted path of the field.
 */
class ProfileLoaderErrorTest {
    static final String FILE = "bad.yaml";

    /** A valid profile; the cases below edit single lines of it (line numbers in the comments). */
    static final String BASE = String.join(
            "\n",
            "name: t", //                                                  1
            "arch: x86_64", //                                             2
            "cpus: 1", //                                                  3
            "kernel: 6.12", //                                             4
            "memory:", //                                                  5
            "  ram:", //                                                   6
            "    - {start: 0x0, size: 1G, name: low}", //                  7
            "    - {start: 0x100000000, size: 1G, name: high}", //         8
            "  reserved:", //                                              9
            "    - {start: 0x1000000, size: 16M, name: kernel}", //        10
            "  mmio:", //                                                  11
            "    - {start: 0xc0000000, size: 256M, name: pci}", //         12
            "devices:", //                                                 13
            "  - name: dev0", //                                           14
            "    dma_mask: 64", //                                         15
            "  - name: dev1", //                                           16
            "    dma_mask: 32", //                                         17
            "");

    /** BASE with line {@code n} (1-based) replaced by {@code text}. */
    static String replace(int n, String text) {
        List<String> l = new ArrayList<>(Arrays.asList(BASE.split("\n", -1)));
        l.set(n - 1, text);
        return String.join("\n", l);
    }

    /** BASE with {@code lines} inserted after line {@code n}. */
    static String insertAfter(int n, String... lines) {
        List<String> l = new ArrayList<>(Arrays.asList(BASE.split("\n", -1)));
        l.addAll(n, List.of(lines));
        return String.join("\n", l);
    }

    /** BASE without line {@code n}. */
    static String delete(int n) {
        List<String> l = new ArrayList<>(Arrays.asList(BASE.split("\n", -1)));
        l.remove(n - 1);
        return String.join("\n", l);
    }

    static PlatformProfile parse(String yaml) {
        return ProfileLoader.parse(FILE, new StringReader(yaml));
    }

    /** Parses, expecting exactly one InputException (no cause, nothing suppressed, one line). */
    static InputException failure(String yaml) {
        Throwable t = catchThrowable(() -> parse(yaml));
        assertThat(t).as("parsing should fail:\n" + yaml).isExactlyInstanceOf(InputException.class);
        InputException e = (InputException) t;
        assertThat(e.getCause()).isNull();
        assertThat(e.getSuppressed()).isEmpty();
        assertThat(e.getMessage()).doesNotContain("\n").doesNotContain("\r");
        assertThat(e.file()).isEqualTo(FILE);
        return e;
    }

    /** Asserts the error is {@code bad.yaml:line: field: reason} with reason containing {@code reasonPart}. */
    static InputException assertError(String yaml, int line, String field, String reasonPart) {
        InputException e = failure(yaml);
        assertThat(e.line()).as(e.getMessage()).isEqualTo(line);
        assertThat(e.field()).as(e.getMessage()).isEqualTo(field);
        assertThat(e.reason()).as(e.getMessage()).contains(reasonPart);
        assertThat(e.getMessage()).isEqualTo(FILE + ":" + line + ": " + field + ": " + e.reason());
        return e;
    }

    @Test
    void theBaseProfileIsValid() {
        PlatformProfile p = parse(BASE);
        assertThat(p.name()).isEqualTo("t");
        assertThat(p.ram()).hasSize(2);
        assertThat(p.devices()).extracting(PlatformProfile.DeviceSpec::name).containsExactly("dev0", "dev1");
        assertThat(p.devices().get(1).dmaMask()).isEqualTo(0xffffffffL);
        assertThat(p.devices().get(0).dmaMask()).isEqualTo(-1L);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Unknown keys

    @Test
    void unknownTopLevelKey() {
        InputException e = assertError(insertAfter(4, "colour: blue"), 5, "colour", "unknown key");
        assertThat(e.reason()).contains("known: ").contains("devices").contains("swiotlb");
    }

    @Test
    void unknownTopLevelKeyWithABlockValueIsReportedAtTheKey() {
        assertError(insertAfter(4, "extra:", "  nested: 1", "  more: 2"), 5, "extra", "unknown key");
    }

    @Test
    void unknownTopLevelKeyWithAnEmptyValue() {
        assertError(insertAfter(4, "extra:"), 5, "extra", "unknown key");
    }

    @Test
    void unknownKeyInsideADevice() {
        InputException e = assertError(insertAfter(15, "    colour: blue"), 16, "devices[0].colour", "unknown key");
        assertThat(e.reason()).contains("dma_mask").contains("coherent_pool");
    }

    @Test
    void unknownKeyInsideTheSecondDevice() {
        assertError(insertAfter(17, "    dma_mask_bits: 32"), 18, "devices[1].dma_mask_bits", "unknown key");
    }

    @Test
    void unknownKeyInsideAFlowRange() {
        assertError(replace(7, "    - {start: 0x0, size: 1G, nmae: low}"), 7, "memory.ram[0].nmae", "unknown key");
    }

    @Test
    void unknownKeyInsideMemory() {
        assertError(insertAfter(12, "  rom: []"), 13, "memory.rom", "unknown key");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Masks

    @ParameterizedTest
    @ValueSource(strings = {"0x1234", "65", "abc", "0", "0x0", "-1", "0x1fffffffffffffffff", "32.5"})
    void badDmaMask(String mask) {
        InputException e = assertError(replace(15, "    dma_mask: " + mask), 15, "devices[0].dma_mask", mask);
        assertThat(e.reason()).containsAnyOf("expected a mask width", "a DMA mask must be all ones");
    }

    @Test
    void badCoherentMaskAndSegmentBoundary() {
        assertError(
                insertAfter(17, "    coherent_dma_mask: 0xfff0"),
                18,
                "devices[1].coherent_dma_mask",
                "all ones from bit 0");
        assertError(
                insertAfter(15, "    segment_boundary: 0x10000"),
                16,
                "devices[0].segment_boundary",
                "all ones from bit 0");
        assertError(
                insertAfter(15, "    min_align_mask: 0x1000"), 16, "devices[0].min_align_mask", "all ones from bit 0");
    }

    @Test
    void goodMasksInEveryForm() {
        PlatformProfile p = parse(replace(15, "    dma_mask: 0xffffffffff"));
        assertThat(p.devices().get(0).dmaMask()).isEqualTo(0xffffffffffL);
        p = parse(replace(15, "    dma_mask: 0xFFFFFFFF"));
        assertThat(p.devices().get(0).dmaMask()).isEqualTo(0xffffffffL);
        p = parse(replace(15, "    dma_mask: 1"));
        assertThat(p.devices().get(0).dmaMask()).isEqualTo(1L);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Memory

    @Test
    void overlappingRamBanks() {
        assertError(replace(8, "    - {start: 0x20000000, size: 1G}"), 8, "memory.ram[1]", "overlaps bank");
    }

    @Test
    void ramBankNotPageAligned() {
        assertError(
                replace(7, "    - {start: 0x800, size: 1G}"), 7, "memory.ram[0]", "not aligned to the 4K page size");
        assertError(replace(8, "    - {start: 0x100000000, size: 0x1234}"), 8, "memory.ram[1]", "not aligned");
    }

    @Test
    void ramBankWithoutSizeOrWithZeroSize() {
        assertError(replace(7, "    - {start: 0x0}"), 7, "memory.ram[0].size", "missing required field");
        assertError(replace(7, "    - {start: 0x0, size: 0}"), 7, "memory.ram[0].size", "positive size");
        assertError(replace(7, "    - {start: 0x0, size: lots}"), 7, "memory.ram[0].size", "expected a number");
    }

    @Test
    void noRamAtAll() {
        // reported at the ram: key
        assertError(
                replace(7, "    []").replace("    - {start: 0x100000000, size: 1G, name: high}\n", ""),
                6,
                "memory.ram",
                "at least one range");
    }

    @Test
    void mmioOverlappingRam() {
        assertError(
                replace(12, "    - {start: 0x30000000, size: 512M, name: pci}"), 12, "memory.mmio[0]", "overlaps RAM");
    }

    @Test
    void mmioOverlappingMmio() {
        assertError(
                insertAfter(12, "    - {start: 0xc8000000, size: 1M, name: second}"),
                13,
                "memory.mmio[1]",
                "overlaps pci");
    }

    @Test
    void reservedOutsideRam() {
        assertError(
                replace(10, "    - {start: 0x50000000, size: 16M}"),
                10,
                "memory.reserved[0]",
                "not inside one RAM bank");
        // straddling the end of a bank
        assertError(replace(10, "    - {start: 0x3f000000, size: 32M}"), 10, "memory.reserved[0]", "not inside");
    }

    // ---------------------------------------------------------------------------------------------------------
    // swiotlb and coherent pools

    @Test
    void swiotlbBaseOutsideRam() {
        assertError(insertAfter(12, "swiotlb:", "  base: 0x80000000"), 14, "swiotlb.base", "outside RAM");
        assertError(insertAfter(12, "swiotlb:", "  base: 0xc0000000"), 14, "swiotlb.base", "outside RAM");
    }

    @Test
    void swiotlbBaseNotPageAligned() {
        assertError(insertAfter(12, "swiotlb:", "  base: 0x10000800"), 14, "swiotlb.base", "page aligned");
    }

    @Test
    void swiotlbBaseInRamIsKeptWithItsLine() {
        PlatformProfile p = parse(insertAfter(12, "swiotlb:", "  base: 0x10000000"));
        assertThat(p.swiotlbBase()).isEqualTo(0x10000000L);
        assertThat(p.lineOf("swiotlb.base")).isEqualTo(14);
        assertThat(parse(BASE).swiotlbBase()).isEqualTo(-1);
    }

    @Test
    void coherentPoolOutsideRamAndMmio() {
        assertError(
                insertAfter(15, "    coherent_pool: {phys: 0x50000000, size: 1M}"),
                16,
                "devices[0].coherent_pool",
                "neither inside a RAM bank nor inside an MMIO range");
        // straddling RAM and the hole above it
        assertError(
                insertAfter(17, "    coherent_pool: {phys: 0x3ff00000, size: 2M}"),
                18,
                "devices[1].coherent_pool",
                "neither inside");
    }

    @Test
    void coherentPoolInBlockStyleIsReportedAtItsKey() {
        assertError(
                insertAfter(15, "    coherent_pool:", "      phys: 0x50000000", "      size: 1M"),
                16,
                "devices[0].coherent_pool",
                "neither inside");
    }

    @Test
    void coherentPoolInRamOrMmioIsAccepted() {
        PlatformProfile p = parse(insertAfter(15, "    coherent_pool: {phys: 0xc0000000, size: 1M, device_base: 0x0}"));
        assertThat(p.devices().get(0).coherentPool()).isEqualTo(new PlatformProfile.PoolSpec(0xc0000000L, 1 << 20, 0));
        p = parse(insertAfter(15, "    coherent_pool: {phys: 0x20000000, size: 1M}"));
        assertThat(p.devices().get(0).coherentPool().deviceBase()).isEqualTo(-1);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Kernel, arch, page size

    @Test
    void unknownKernel() {
        InputException e = assertError(replace(4, "kernel: 9.9"), 4, "kernel", "unknown kernel '9.9'");
        assertThat(e.reason()).contains("6.12").contains("5.0-rc2");
    }

    @Test
    void unknownArch() {
        assertError(replace(2, "arch: riscv"), 2, "arch", "riscv");
    }

    @Test
    void sixteenKPagesOnX86() {
        assertError(insertAfter(2, "page_size: 16K"), 3, "page_size", "supports only 4K pages");
        assertError(insertAfter(2, "page_size: 64K"), 3, "page_size", "supports only 4K pages");
    }

    @Test
    void sixteenKPagesOnArm64AreFine() {
        PlatformProfile p = parse(replace(2, "arch: arm64")
                .replace(
                        "    - {start: 0x1000000, size: 16M, name: kernel}",
                        "    - {start: 0x1000000, size: 16M, name: kernel}")
                .replace("cpus: 1", "cpus: 1\npage_size: 16K"));
        assertThat(p.pageSize().bytes()).isEqualTo(16384);
    }

    @Test
    void badPageSize() {
        assertError(insertAfter(2, "page_size: 8K"), 3, "page_size", "");
    }

    @Test
    void otherBadScalars() {
        assertError(replace(3, "cpus: 0"), 3, "cpus", "expected an integer in [1, 1024]");
        assertError(replace(3, "cpus: many"), 3, "cpus", "expected a number");
        assertError(insertAfter(3, "possible_cpus: 0"), 4, "possible_cpus", "[1, 1024]");
        assertError(replace(3, "cpus: 4\npossible_cpus: 2"), 4, "possible_cpus", "below cpus");
        assertError(insertAfter(3, "lpae: true"), 4, "lpae", "arch arm only");
        assertError(insertAfter(3, "lpae: maybe"), 4, "lpae", "expected true or false");
        assertError(replace(1, "name: my platform"), 1, "name", "letters, digits");
        assertError(insertAfter(15, "    bus: usb"), 16, "devices[0].bus", "usb");
        assertError(insertAfter(15, "    coherent: perhaps"), 16, "devices[0].coherent", "expected true or false");
        assertError(
                insertAfter(15, "    hardware_address_bits: 65"), 16, "devices[0].hardware_address_bits", "[1, 64]");
        assertError(insertAfter(12, "zones:", "  dma_limit: 3G"), 14, "zones.dma_limit", "power of two");
        assertError(insertAfter(12, "cache: {speculation: always}"), 13, "cache.speculation", "none or next_line");
        assertError(
                insertAfter(15, "    dma_ranges: [{cpu: 0, dma: 0x1000, size: 0}]"),
                16,
                "devices[0].dma_ranges[0].size",
                "positive size");
    }

    @Test
    void wrongShapes() {
        assertError(
                replace(13, "devices: {a: 1}")
                        .replace("  - name: dev0\n    dma_mask: 64\n  - name: dev1\n    dma_mask: 32\n", ""),
                13,
                "devices",
                "expected a list");
        assertError(replace(2, "arch: [x86_64]"), 2, "arch", "expected a single value");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Duplicates and missing fields

    @Test
    void duplicateKey() {
        assertError(insertAfter(1, "name: u"), 2, "name", "duplicate key");
    }

    @Test
    void duplicateKeyInsideADevice() {
        assertError(insertAfter(15, "    dma_mask: 32"), 16, "devices[0].dma_mask", "duplicate key");
    }

    @Test
    void duplicateDeviceName() {
        assertError(replace(16, "  - name: dev0"), 16, "devices[1].name", "duplicate device name dev0");
    }

    @Test
    void missingRequiredTopLevelField() {
        assertError(delete(2), 1, "arch", "missing required field");
        assertError(delete(1), 1, "name", "missing required field");
    }

    @Test
    void missingRequiredFieldInADevice() {
        assertError(delete(17), 16, "devices[1].dma_mask", "missing required field");
    }

    @Test
    void missingMemory() {
        String noMemory = BASE.replace(
                "memory:\n  ram:\n    - {start: 0x0, size: 1G, name: low}\n    - {start: 0x100000000, size: 1G, name: high}\n"
                        + "  reserved:\n    - {start: 0x1000000, size: 16M, name: kernel}\n  mmio:\n"
                        + "    - {start: 0xc0000000, size: 256M, name: pci}\n",
                "");
        assertError(noMemory, 1, "memory", "missing required field");
        // "memory:" with no value: reported at its own line (the file has 9 lines before it)
        assertError(noMemory + "memory:\n", 10, "memory", "missing required field");
    }

    @Test
    void missingRamInsideMemoryIsReportedAtTheMemoryKey() {
        assertError(
                replace(6, "  rom:")
                        .replace(
                                "  rom:\n    - {start: 0x0, size: 1G, name: low}\n"
                                        + "    - {start: 0x100000000, size: 1G, name: high}\n",
                                ""),
                5,
                "memory.ram",
                "missing required field");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Not YAML, empty

    @Test
    void invalidYamlSyntax() {
        InputException e = failure(replace(3, "cpus: 1: 2"));
        assertThat(e.line()).isEqualTo(3);
        assertThat(e.field()).isNull();
        assertThat(e.getMessage()).isEqualTo(FILE + ":3: not valid YAML: mapping values are not allowed here");
    }

    @Test
    void unclosedFlowMapping() {
        InputException e = failure(replace(7, "    - {start: 0x0, size: 1G"));
        assertThat(e.line()).isEqualTo(8);
        assertThat(e.getMessage())
                .startsWith(FILE + ":8: not valid YAML: expected ',' or '}'")
                .endsWith("(while parsing a flow mapping started at line 7)");
    }

    @Test
    void tabIndentation() {
        InputException e = failure(replace(15, "\tdma_mask: 64"));
        assertThat(e.line()).isEqualTo(15);
        assertThat(e.getMessage()).startsWith(FILE + ":15: not valid YAML: ").contains("TAB");
    }

    @Test
    void emptyFile() {
        InputException e = failure("");
        assertThat(e.getMessage()).isEqualTo(FILE + ":1: the file is empty");
        assertThat(failure("# only a comment\n\n").reason()).isEqualTo("the file is empty");
    }

    @Test
    void notAMapping() {
        assertThat(failure("- a\n- b\n").getMessage()).isEqualTo(FILE + ":1: expected a mapping at the top level");
        assertThat(failure("just text\n").getMessage()).isEqualTo(FILE + ":1: expected a mapping at the top level");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Coherence

    @Test
    void nonCoherentDeviceOnX86() {
        assertError(insertAfter(15, "    coherent: false"), 16, "devices[0].coherent", "always cache coherent");
    }

    @Test
    void coherentTrueOnX86IsFine() {
        assertThat(parse(insertAfter(15, "    coherent: true")).devices().get(0).coherent())
                .isTrue();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Files

    @Test
    void missingFile(@TempDir Path dir) {
        Path p = dir.resolve("nope.yaml");
        Throwable t = catchThrowable(() -> ProfileLoader.load(p));
        assertThat(t).isExactlyInstanceOf(InputException.class).hasMessage(p + ": no such profile file");
    }

    @Test
    void errorsInAFileNameThePath(@TempDir Path dir) throws IOException {
        Path p = dir.resolve("my.yaml");
        Files.writeString(p, replace(15, "    dma_mask: 0x1234"));
        Throwable t = catchThrowable(() -> ProfileLoader.load(p));
        assertThat(t)
                .isExactlyInstanceOf(InputException.class)
                .hasMessageStartingWith(p + ":15: devices[0].dma_mask: ");
        assertThat(catchThrowable(() -> Platforms.load(p.toString()))).hasMessage(t.getMessage());
    }

    // ---------------------------------------------------------------------------------------------------------
    // Robustness: whatever a profile says, the loader (and boot) fail with InputException and nothing else

    @Test
    void everySingleLineMutationLoadsOrFailsWithAnInputException() {
        String[] mutations = {
            null, "", "x", "-1", "0", "0xffffffffffffffff", "[]", "{}", "~", ":", "- a", "99999999999999999999999"
        };
        String[] lines = BASE.split("\n", -1);
        int loaded = 0;
        int rejected = 0;
        for (int i = 0; i < lines.length; i++) {
            for (String m : mutations) {
                List<String> copy = new ArrayList<>(Arrays.asList(lines));
                if (m == null) {
                    copy.remove(i);
                } else {
                    String l = lines[i];
                    int colon = l.indexOf(": ");
                    copy.set(i, colon < 0 ? l + m : l.substring(0, colon + 2) + m);
                }
                String yaml = String.join("\n", copy);
                Throwable t = catchThrowable(() -> {
                    PlatformProfile p = parse(yaml);
                    for (var v : dev.dmalab.kernel.KernelVersion.builtIn()) {
                        Machine.boot(p, v);
                    }
                });
                if (t == null) {
                    loaded++;
                } else {
                    assertThat(t)
                            .as("line %d mutated to %s:%n%s", i + 1, m, yaml)
                            .isExactlyInstanceOf(InputException.class);
                    assertThat(t.getMessage()).startsWith(FILE).doesNotContain("\n");
                    rejected++;
                }
            }
        }
        assertThat(loaded).isPositive();
        assertThat(rejected).isPositive();
    }
}
