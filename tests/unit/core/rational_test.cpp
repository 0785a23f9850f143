#include "antiphon/core/rational.h"

#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>

namespace antiphon {

TEST(Rational, normalizes_sign_and_common_factors) {
  Rational r(6, -8);
  EXPECT_EQ(r.num(), -3);
  EXPECT_EQ(r.den(), 4);
  EXPECT_EQ(Rational(0, 5), Rational(0));
  EXPECT_EQ(Rational(0, 5).den(), 1);
}

TEST(Rational, adds_dotted_and_triplet_values_exactly) {
  // dotted eighth + sixteenth = quarter; three eighth-note triplets = quarter
  EXPECT_EQ(Rational(3, 4) + Rational(1, 4), Rational(1));
  EXPECT_EQ(Rational(1, 3) + Rational(1, 3) + Rational(1, 3), Rational(1));
  EXPECT_EQ(Rational(1, 2) * Rational(2, 3), Rational(1, 3));
  EXPECT_EQ(Rational(3, 2) / Rational(1, 4), Rational(6));
  EXPECT_EQ(Rational(1, 6) - Rational(1, 2), Rational(-1, 3));
}

TEST(Rational, orders_by_value) {
  EXPECT_LT(Rational(1, 3), Rational(1, 2));
  EXPECT_GT(Rational(-1, 3), Rational(-1, 2));
  EXPECT_LE(Rational(2, 4), Rational(1, 2));
}

TEST(Rational, floors_towards_minus_infinity) {
  EXPECT_EQ(Rational(7, 2).floor(), 3);
  EXPECT_EQ(Rational(-7, 2).floor(), -4);
  EXPECT_EQ(Rational(-4, 2).floor(), -2);
  EXPECT_EQ(floor_div(Rational(5, 2), Rational(3, 4)), 3);
  EXPECT_EQ(floor_mod(Rational(5, 2), Rational(3, 4)), Rational(1, 4));
}

TEST(Rational, parses_and_prints) {
  EXPECT_EQ(Rational::parse("3/8"), Rational(3, 8));
  EXPECT_EQ(Rational::parse("-2"), Rational(-2));
  EXPECT_EQ(Rational(6, 4).to_string(), "3/2");
  EXPECT_EQ(Rational(5).to_string(), "5");
  EXPECT_THROW(Rational::parse("3/0"), std::invalid_argument);
  EXPECT_THROW(Rational::parse("x"), std::invalid_argument);
  EXPECT_THROW(Rational::parse("1/2z"), std::invalid_argument);
}

TEST(Rational, throws_on_zero_denominator_and_overflow) {
  EXPECT_THROW(Rational(1, 0), std::domain_error);
  EXPECT_THROW(Rational(1) / Rational(0), std::domain_error);
  Rational big(std::numeric_limits<int64_t>::max() / 2, 1);
  EXPECT_THROW(big * Rational(4), std::overflow_error);
  // Large coprime denominators: the exact sum needs more than 64 bits.
  Rational a(1, 4000000007LL), b(1, 4000000009LL);
  EXPECT_THROW(a * b * a, std::overflow_error);
}

}  // namespace antiphon
