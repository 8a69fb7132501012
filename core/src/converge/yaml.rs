//! A YAML document as a tree whose every node knows its line and column, so
//! that a spec's errors can point at the text. Built from `saphyr-parser`'s
//! events; anchors and aliases are refused (a spec is read by people, and an
//! alias makes a small file expand into a large one).

use saphyr_parser::{Event, Parser, ScalarStyle};

/// Where a node starts: 1-based line and column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1.
    pub column: usize,
}

/// A node of the document.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// A scalar, with whether it was quoted (a quoted `true` is a string).
    Scalar(String, bool, Position),
    /// A sequence.
    Sequence(Vec<Node>, Position),
    /// A mapping, its keys in order.
    Mapping(Vec<(Node, Node)>, Position),
}

impl Node {
    /// Where the node starts.
    pub fn position(&self) -> Position {
        match self {
            Node::Scalar(_, _, p) | Node::Sequence(_, p) | Node::Mapping(_, p) => *p,
        }
    }

    /// The kind of node, for errors ("a mapping").
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Scalar(text, quoted, _) if !quoted && is_null(text) => "null",
            Node::Scalar(..) => "a scalar",
            Node::Sequence(..) => "a list",
            Node::Mapping(..) => "a mapping",
        }
    }

    /// Whether it is an empty plain scalar, `~` or `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Node::Scalar(text, false, _) if is_null(text))
    }
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// A syntax error, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where.
    pub position: Position,
    /// What.
    pub message: String,
}

fn position(marker: &saphyr_parser::Marker) -> Position {
    Position {
        line: marker.line(),
        column: marker.col() + 1,
    }
}

/// Parses the first document of `text`; an empty text is a null scalar.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut stack: Vec<Node> = Vec::new();
    let mut keys: Vec<Option<Node>> = Vec::new();
    let mut root = None;
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| SyntaxError {
            position: position(e.marker()),
            message: e.info().to_owned(),
        })?;
        let at = position(&span.start);
        let node = match event {
            Event::Alias(_) => {
                return Err(SyntaxError {
                    position: at,
                    message: "aliases (*name) are not allowed in a spec: write the value out".to_owned(),
                });
            }
            Event::Scalar(text, style, anchor, _) => {
                if anchor != 0 {
                    return Err(anchor_error(at));
                }
                Node::Scalar(text.into_owned(), style != ScalarStyle::Plain, at)
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if anchor != 0 {
                    return Err(anchor_error(at));
                }
                let open = match event {
                    Event::SequenceStart(..) => Node::Sequence(Vec::new(), at),
                    _ => Node::Mapping(Vec::new(), at),
                };
                stack.push(open);
                keys.push(None);
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                keys.pop();
                match stack.pop() {
                    Some(node) => node,
                    None => continue,
                }
            }
            Event::DocumentEnd if root.is_some() => break,
            _ => continue,
        };
        match stack.last_mut() {
            None => root = Some(node),
            Some(Node::Sequence(items, _)) => items.push(node),
            Some(Node::Mapping(pairs, _)) => {
                let slot = keys.last_mut().expect("a key slot per open mapping");
                match slot.take() {
                    None => *slot = Some(node),
                    Some(key) => pairs.push((key, node)),
                }
            }
            Some(Node::Scalar(..)) => unreachable!("a scalar never holds nodes"),
        }
    }
    Ok(root.unwrap_or(Node::Scalar(String::new(), false, Position { line: 1, column: 1 })))
}

fn anchor_error(at: Position) -> SyntaxError {
    SyntaxError {
        position: at,
        message: "anchors (&name) are not allowed in a spec: write the value out".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let node = parse("a: 1\nb:\n  - x\n  - {c: d}\n").expect("parses");
        let Node::Mapping(pairs, at) = node else {
            panic!("a mapping")
        };
        assert_eq!(at, Position { line: 1, column: 1 });
        assert_eq!(pairs[1].0.position(), Position { line: 2, column: 1 });
        let Node::Sequence(items, _) = &pairs[1].1 else {
            panic!("a list")
        };
        assert_eq!(items[1].position().line, 4);
        assert_eq!(
            items[0],
            Node::Scalar("x".into(), false, Position { line: 3, column: 5 })
        );
    }

    #[test]
    fn aliases_and_syntax_errors_are_positioned() {
        let e = parse("a: &x 1\nb: *x\n").expect_err("anchor");
        assert_eq!(e.position.line, 1);
        let e = parse("a: [1,\n").expect_err("unclosed");
        assert!(e.position.line >= 1, "{e:?}");
        assert!(parse("").expect("empty").is_null());
        assert_eq!(
            parse("'true'").expect("quoted"),
            Node::Scalar("true".into(), true, Position { line: 1, column: 1 })
        );
    }
}
