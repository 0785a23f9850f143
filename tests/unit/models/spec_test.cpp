#include "antiphon/models/spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace antiphon {
namespace {

using ::testing::HasSubstr;

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ModelSpec, parses_family_and_options_in_order) {
  ModelSpec s = ModelSpec::parse("ppm:order=star, escape=C,viewpoints=cpitch+cpint*dur");
  EXPECT_EQ(s.family(), "ppm");
  ASSERT_EQ(s.options().size(), 3u);
  EXPECT_EQ(s.options()[0], (std::pair<std::string, std::string>{"order", "star"}));
  EXPECT_EQ(s.get("escape"), "C");
  EXPECT_EQ(s.get("viewpoints"), "cpitch+cpint*dur");
  EXPECT_FALSE(s.get("blend").has_value());
  EXPECT_EQ(s.to_string(), "ppm:order=star,escape=C,viewpoints=cpitch+cpint*dur");
}

TEST(ModelSpec, bare_family_has_no_options) {
  ModelSpec s = ModelSpec::parse("markov");
  EXPECT_EQ(s.family(), "markov");
  EXPECT_TRUE(s.options().empty());
  EXPECT_EQ(s.to_string(), "markov");
  EXPECT_TRUE(ModelSpec::parse("hmm:").options().empty());
}

TEST(ModelSpec, set_replaces_and_erase_removes) {
  ModelSpec s = ModelSpec::parse("markov:order=2");
  s.set("order", "3");
  s.set("smoothing", "kneser-ney");
  EXPECT_EQ(s.to_string(), "markov:order=3,smoothing=kneser-ney");
  s.erase("order");
  EXPECT_EQ(s.to_string(), "markov:smoothing=kneser-ney");
}

TEST(ModelSpec, rejects_malformed_text_naming_the_part) {
  EXPECT_THAT(error_of([] { ModelSpec::parse(":order=2"); }), HasSubstr("family name is missing"));
  EXPECT_THAT(error_of([] { ModelSpec::parse("ppm:order"); }), HasSubstr("'order' has no '=value'"));
  EXPECT_THAT(error_of([] { ModelSpec::parse("ppm:order=2,,escape=C"); }), HasSubstr("empty option"));
  EXPECT_THAT(error_of([] { ModelSpec::parse("ppm:order=2,order=3"); }), HasSubstr("'order' is given twice"));
  EXPECT_THAT(error_of([] { ModelSpec::parse("ppm:=2"); }), HasSubstr("has no key"));
  EXPECT_THAT(error_of([] { ModelSpec::parse("ppm:a=b=c"); }), HasSubstr("more than one '='"));
  EXPECT_THAT(error_of([] { ModelSpec::parse("p/m:order=2"); }), HasSubstr("'p/m' is not a family name"));
}

TEST(SpecReader, reads_typed_values_with_fallbacks) {
  ModelSpec s = ModelSpec::parse("x:n=7,r=0.25,f=off,c=B,l=a+b*c");
  SpecReader r(s);
  EXPECT_EQ(r.integer("n", 1, 0, 10), 7);
  EXPECT_EQ(r.integer("missing", 3, 0, 10), 3);
  EXPECT_DOUBLE_EQ(r.real("r", 1, 0, 1), 0.25);
  EXPECT_FALSE(r.flag("f", true));
  EXPECT_EQ(r.choice("c", "A", {"A", "B"}), "B");
  EXPECT_EQ(r.list("l", {}), (std::vector<std::string>{"a", "b*c"}));
  EXPECT_NO_THROW(r.finish());
}

TEST(SpecReader, bad_values_name_key_and_value) {
  ModelSpec s = ModelSpec::parse("ppm:order=abc,n=99,f=maybe,c=Q,l=a++b,r=nan");
  SpecReader r(s);
  EXPECT_THAT(error_of([&] { r.integer("order", 1, 0, 10); }), HasSubstr("ppm: order=abc is not an integer"));
  EXPECT_THAT(error_of([&] { r.integer("n", 1, 0, 10); }), HasSubstr("n=99 is outside 0..10"));
  EXPECT_THAT(error_of([&] { r.flag("f", false); }), HasSubstr("f=maybe is not a flag"));
  EXPECT_THAT(error_of([&] { r.choice("c", "A", {"A", "B"}); }), HasSubstr("c=Q is not one of A, B"));
  EXPECT_THAT(error_of([&] { r.list("l", {}); }), HasSubstr("empty item"));
  EXPECT_THAT(error_of([&] { r.real("r", 0, 0, 1); }), HasSubstr("r=nan is not a number"));
}

TEST(SpecReader, finish_names_every_unknown_option_and_the_known_ones) {
  ModelSpec s = ModelSpec::parse("ppm:ordr=2,escape=C,blnd=1");
  SpecReader r(s);
  r.integer("order", 2, 0, 10);
  r.text("escape", "C");
  r.flag("blend", true);
  std::string e = error_of([&] { r.finish(); });
  EXPECT_THAT(e, HasSubstr("unknown option 'ordr', 'blnd'"));
  EXPECT_THAT(e, HasSubstr("known: order, escape, blend"));
}

}  // namespace
}  // namespace antiphon
