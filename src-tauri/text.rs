//! Folding French text for comparisons: "Émilie", "EMILIE" and "emilie " are the same person
//! for sorting, uniqueness and search. Counter agents type names without accents as often as
//! with them, and SQLite's `NOCASE` only folds ASCII.

/// Lower-cases, removes French diacritics, expands ligatures and collapses white space.
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !folded.is_empty() {
            folded.push(' ');
        }
        for c in word.chars().flat_map(char::to_lowercase) {
            match c {
                'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => folded.push('a'),
                'ç' => folded.push('c'),
                'è' | 'é' | 'ê' | 'ë' => folded.push('e'),
                'ì' | 'í' | 'î' | 'ï' => folded.push('i'),
                'ñ' => folded.push('n'),
                'ò' | 'ó' | 'ô' | 'õ' | 'ö' => folded.push('o'),
                'ù' | 'ú' | 'û' | 'ü' => folded.push('u'),
                'ý' | 'ÿ' => folded.push('y'),
                'œ' => folded.push_str("oe"),
                'æ' => folded.push_str("ae"),
                '’' | 'ʼ' => folded.push('\''),
                other => folded.push(other),
            }
        }
    }
    folded
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn folds_case_accents_ligatures_and_spaces() {
        assert_eq!(fold("  Émilie   DURAND "), "emilie durand");
        assert_eq!(fold("Cœur-Joyeux"), "coeur-joyeux");
        assert_eq!(fold("L’Haÿ-les-Roses"), "l'hay-les-roses");
        assert_eq!(fold("François"), fold("FRANCOIS"));
    }
}
