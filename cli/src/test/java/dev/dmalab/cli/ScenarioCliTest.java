package dev.dmalab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scenarios through the CLI: the library listing, show, running a scenario file and its variants, bad files. */
class ScenarioCliTest {
    @TempDir
    Path dir;

    @Test
    void scenariosListsTheLibraryOneLineEach() {
        Cli.Result r = Cli.run("scenarios");
        assertThat(r.code()).isZero();
        assertThat(r.out().lines().findFirst().orElseThrow()).startsWith("NAME").contains("VARIANTS", "DESCRIPTION");
        assertThat(r.out())
                .containsPattern("(?m)^streaming-roundtrip +correct, nosync +driver and device exchange")
                .containsPattern("(?m)^nic-rx-ring +correct, nosync +a NIC RX ring")
                .containsPattern("(?m)^nvme-io +- +an NVMe-style")
                .containsPattern("(?m)^usb-small-buffers +- ")
                .containsPattern("(?m)^xen-dom0-boot +- +the seed's boot")
                .containsPattern("(?m)^check-double-unmap +buggy, fixed +the completion and the timeout path");
    }

    @Test
    void showPrintsTheFileAlsoForAVariantsName() {
        Cli.Result r = Cli.run("scenarios", "show", "check-double-unmap-fixed");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("name: check-double-unmap\n").contains("variants: [buggy, fixed]");
        Cli.Result bad = Cli.run("scenarios", "show", "nope");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).isEqualTo("dmalab: no built-in scenario 'nope' (see 'dmalab scenarios')\n");
    }

    @Test
    void aShownScenarioRunsFromItsFileWithEachVariant() throws Exception {
        Path f = dir.resolve("rt.yaml");
        Files.writeString(f, Cli.run("scenarios", "show", "streaming-roundtrip").out());
        Cli.Result ok = Cli.run("run", f.toString(), "--platform", "arm64-noncoherent", "--json");
        assertThat(ok.code()).isZero();
        JsonNode o = Json.MAPPER.readTree(ok.out());
        assertThat(o.get("workload").asText()).isEqualTo("streaming-roundtrip");
        assertThat(o.get("outcome").asText()).isEqualTo("ok");
        // the file runs exactly as the built-in does
        Cli.Result builtIn = Cli.run("run", "streaming-roundtrip", "--platform", "arm64-noncoherent", "--json");
        assertThat(ok.out()).isEqualTo(builtIn.out());

        Cli.Result nosync = Cli.run("run", f.toString(), "--variant", "nosync", "--platform", "arm64-noncoherent");
        assertThat(nosync.code()).isEqualTo(1);
        assertThat(nosync.out()).startsWith("streaming-roundtrip-nosync on arm64-noncoherent");

        Cli.Result badVariant = Cli.run("run", f.toString(), "--variant", "fast", "--platform", "x86-q35");
        assertThat(badVariant.code()).isEqualTo(2);
        assertThat(badVariant.err())
                .isEqualTo("dmalab: no variant 'fast' in " + f + " (its variants: correct, nosync)\n");
        Cli.Result builtInVariant = Cli.run("run", "nvme-io", "--variant", "x", "--platform", "x86-q35");
        assertThat(builtInVariant.code()).isEqualTo(2);
    }

    @Test
    void aBadScenarioFileIsOneLineWithFileLineAndField() throws Exception {
        Path f = dir.resolve("bad.yaml");
        Files.writeString(
                f,
                "name: bad\ndescription: x\nsteps:\n  - buffer: {name: b, size: 64}\n"
                        + "  - map: {buffer: b, direction: TO_DEV}\n");
        Cli.Result r = Cli.run("run", f.toString(), "--platform", "x86-q35");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err())
                .isEqualTo("dmalab: " + f + ":5: direction: expected one of TO_DEVICE, FROM_DEVICE, BIDIRECTIONAL"
                        + " (or NONE, which BUG()s), got TO_DEV\n");
        Cli.Result missing = Cli.run("run", dir.resolve("none.yaml").toString(), "--platform", "x86-q35");
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).endsWith("none.yaml: no such scenario file\n");
    }

    @Test
    void aScenarioThatDoesNotApplyIsUnsupportedNotFailed() {
        // check-map-vmalloc needs a kernel that refuses vmalloc addresses (5.18+)
        Cli.Result r = Cli.run("run", "check-map-vmalloc", "--platform", "x86-q35", "--kernel", "5.4");
        assertThat(r.code()).isZero();
        assertThat(r.out())
                .startsWith("check-map-vmalloc on x86-q35, Linux 5.4 model, seed 1: UNSUPPORTED\n"
                        + "  (does not apply here: Linux 5.4 lacks MAP_SINGLE_REJECTS_VMALLOC)\n");
    }
}
