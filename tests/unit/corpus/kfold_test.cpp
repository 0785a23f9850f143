#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "antiphon/corpus/corpus.h"

namespace antiphon {

TEST(KFold, puts_every_melody_in_exactly_one_test_fold) {
  auto folds = kfold_split(23, 5, 7);
  ASSERT_EQ(folds.size(), 5u);
  std::multiset<size_t> tested;
  for (const Fold& f : folds) {
    EXPECT_TRUE(f.test.size() == 4u || f.test.size() == 5u);
    EXPECT_EQ(f.train.size() + f.test.size(), 23u);
    for (size_t i : f.test) {
      tested.insert(i);
      EXPECT_FALSE(std::binary_search(f.train.begin(), f.train.end(), i));
    }
  }
  EXPECT_EQ(tested.size(), 23u);
  for (size_t i = 0; i < 23; ++i) EXPECT_EQ(tested.count(i), 1u);
}

TEST(KFold, is_deterministic_for_a_seed_and_changes_with_it) {
  auto a = kfold_split(100, 10, 1);
  auto b = kfold_split(100, 10, 1);
  auto c = kfold_split(100, 10, 2);
  for (size_t f = 0; f < a.size(); ++f) EXPECT_EQ(a[f].test, b[f].test);
  bool differs = false;
  for (size_t f = 0; f < a.size(); ++f) differs = differs || a[f].test != c[f].test;
  EXPECT_TRUE(differs);
  // Shuffled, not contiguous blocks.
  EXPECT_NE(a[0].test, (std::vector<size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(KFold, rejects_impossible_fold_counts) {
  EXPECT_THROW(kfold_split(10, 1, 0), ConfigError);
  EXPECT_THROW(kfold_split(3, 4, 0), ConfigError);
  EXPECT_NO_THROW(kfold_split(4, 4, 0));
}

TEST(Grid, finds_the_first_note_off_the_grid) {
  Melody m;
  m.append(Pitch::parse("C4"), Rational(1, 2));
  m.append(Pitch::parse("D4"), Rational(1, 3));
  m.append(Pitch::parse("E4"), Rational(1, 6));
  EXPECT_EQ(first_off_grid_note(m, 4), std::optional<size_t>(1));
  EXPECT_EQ(first_off_grid_note(m, 12), std::nullopt);
  EXPECT_EQ(first_off_grid_note(m, 6), std::nullopt);
}

}  // namespace antiphon
