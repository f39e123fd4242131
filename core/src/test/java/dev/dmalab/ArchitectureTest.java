package dev.dmalab;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Enforces the package layers of DESIGN.md as each package's {@code package-info.java} states them ("May use:
 * {@code a}, {@code b}"): the documentation is the rule. Also: the model never reads the wall clock or unseeded
 * randomness, and code outside {@code kernel} never compares kernel versions (it asks for features).
 */
class ArchitectureTest {
    private static final Path SOURCES = Path.of("src/main/java/dev/dmalab");
    private static final Pattern CODE = Pattern.compile("\\{@code[\\s*]+([a-z]+)\\}");

    /** Third-party libraries a package may use beyond the JDK. */
    private static final Map<String, List<String>> LIBRARIES = Map.of(
            "platform", List.of("com.fasterxml.jackson..", "org.yaml.snakeyaml.."),
            "scenario", List.of("com.fasterxml.jackson..", "org.yaml.snakeyaml.."),
            "trace", List.of("org.tukaani.xz.."));

    private static JavaClasses model;
    private static Map<String, List<String>> mayUse;

    @BeforeAll
    static void importClasses() throws IOException {
        model = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.dmalab");
        mayUse = new TreeMap<>();
        try (Stream<Path> dirs = Files.list(SOURCES)) {
            for (Path dir : dirs.filter(Files::isDirectory).toList()) {
                Path info = dir.resolve("package-info.java");
                assertThat(info).as("every package documents itself: " + dir).exists();
                String text = Files.readString(info);
                int at = text.indexOf("May use");
                assertThat(at).as(info + " says what the package may use").isGreaterThanOrEqualTo(0);
                String statement = text.substring(at, text.indexOf("*/", at));
                List<String> used = new ArrayList<>();
                Matcher m = CODE.matcher(statement);
                while (m.find()) {
                    used.add(m.group(1));
                }
                mayUse.put(dir.getFileName().toString(), used);
            }
        }
    }

    @Test
    void eachPackageUsesOnlyWhatItsPackageInfoAllows() {
        assertThat(mayUse)
                .containsKeys(
                        "util",
                        "memory",
                        "cache",
                        "hypervisor",
                        "device",
                        "kernel",
                        "dma",
                        "arch",
                        "swiotlb",
                        "direct",
                        "platform",
                        "trace",
                        "replay",
                        "scenario",
                        "matrix");
        for (Map.Entry<String, List<String>> e : mayUse.entrySet()) {
            List<String> allowed = new ArrayList<>();
            allowed.add("dev.dmalab." + e.getKey() + "..");
            for (String p : e.getValue()) {
                allowed.add("dev.dmalab." + p + "..");
            }
            allowed.add("java..");
            allowed.addAll(LIBRARIES.getOrDefault(e.getKey(), List.of()));
            ArchRule rule = classes()
                    .that()
                    .resideInAPackage("dev.dmalab." + e.getKey() + "..")
                    .should()
                    .onlyDependOnClassesThat()
                    .resideInAnyPackage(allowed.toArray(new String[0]))
                    .because(e.getKey() + "/package-info.java says it may use only " + e.getValue());
            rule.check(model);
        }
    }

    @Test
    void layersNeverPointUpwards() {
        // The order of DESIGN.md, lowest first: a package may only name packages before it in this list.
        List<String> order = List.of(
                "util",
                "memory",
                "cache",
                "iommuhw",
                "hypervisor",
                "device",
                "kernel",
                "dma",
                "arch",
                "swiotlb",
                "direct",
                "iommu",
                "xen",
                "check",
                "driver",
                "platform",
                "trace",
                "replay",
                "scenario",
                "matrix",
                "report");
        for (Map.Entry<String, List<String>> e : mayUse.entrySet()) {
            int self = order.indexOf(e.getKey());
            assertThat(self)
                    .as("package " + e.getKey() + " has a place in the layer order")
                    .isGreaterThanOrEqualTo(0);
            for (String used : e.getValue()) {
                assertThat(order.indexOf(used))
                        .as(e.getKey() + " may use " + used + ", which must be below it")
                        .isBetween(0, self - 1);
            }
        }
    }

    @Test
    void theModelNeverReadsTheWallClockOrUnseededRandomness() {
        noClasses()
                .should()
                .callMethod(System.class, "currentTimeMillis")
                .orShould()
                .callMethod(System.class, "nanoTime")
                .orShould()
                .callMethod(Math.class, "random")
                .orShould()
                .callMethodWhere(com.tngtech.archunit.core.domain.JavaCall.Predicates.target(
                        com.tngtech.archunit.core.domain.properties.HasName.Predicates.name("now")))
                .orShould()
                .dependOnClassesThat()
                .haveFullyQualifiedName("java.util.Random")
                .orShould()
                .dependOnClassesThat()
                .haveFullyQualifiedName("java.security.SecureRandom")
                .orShould()
                .dependOnClassesThat()
                .haveFullyQualifiedName("java.util.concurrent.ThreadLocalRandom")
                .orShould()
                .callConstructor(java.util.SplittableRandom.class)
                .because("a run must be a pure function of its inputs and seed (DESIGN.md, Determinism)")
                .check(model);
    }

    @Test
    void numbersAreFormattedTheSameInEveryLocale() {
        noClasses()
                .should()
                .callMethod(String.class, "format", String.class, Object[].class)
                .orShould()
                .callMethod(String.class, "formatted", Object[].class)
                .because("String.format without a Locale prints the default locale's digits and separators: the same"
                        + " run must give the same bytes on every machine (use Locale.ROOT)")
                .check(model);
    }

    @Test
    void onlyTheMatrixHasAnExecutorService() {
        noClasses()
                .that()
                .resideOutsideOfPackage("dev.dmalab.matrix..")
                .should()
                .dependOnClassesThat()
                .haveFullyQualifiedName(java.util.concurrent.ExecutorService.class.getName())
                .orShould()
                .dependOnClassesThat()
                .haveFullyQualifiedName(java.util.concurrent.Executors.class.getName())
                .because("a machine is single-threaded; matrix runs machines side by side (DESIGN.md: the only"
                        + " ExecutorService)")
                .check(model);
    }

    @Test
    void versionsAreComparedOnlyInsideTheKernelPackage() {
        noClasses()
                .that()
                .resideOutsideOfPackage("dev.dmalab.kernel..")
                .should()
                .callMethod(dev.dmalab.kernel.KernelVersion.class, "compareTo", dev.dmalab.kernel.KernelVersion.class)
                .because("model code asks for a Feature, never compares version numbers")
                .check(model);
    }
}
